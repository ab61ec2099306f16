#include "common/state/codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace vigil::state {
namespace {

TEST(Codec, RoundTripsEveryKind) {
  std::string buf;
  Encoder(buf)
      .varint(0)
      .varint(300)
      .varint(std::numeric_limits<std::uint64_t>::max())
      .signed_varint(-5)
      .signed_varint(std::numeric_limits<std::int64_t>::min())
      .fixed64(0x0102030405060708ULL)
      .bytes("héllo");
  Decoder in(buf);
  std::uint64_t a = 1, b = 0, c = 0, f = 0;
  std::int64_t d = 0, e = 0;
  std::string_view s;
  ASSERT_TRUE(in.varint(a) && in.varint(b) && in.varint(c) && in.signed_varint(d) && in.signed_varint(e) &&
              in.fixed64(f) && in.bytes(s));
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 300u);
  EXPECT_EQ(c, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(d, -5);
  EXPECT_EQ(e, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(f, 0x0102030405060708ULL);
  EXPECT_EQ(s, "héllo");
  EXPECT_TRUE(in.at_end());
}

TEST(Codec, TruncatedInputFailsAndStaysFailed) {
  std::string buf;
  Encoder(buf).bytes("abcdef");
  buf.pop_back();
  Decoder in(buf);
  std::string_view s;
  EXPECT_FALSE(in.bytes(s));
  std::uint64_t v = 0;
  EXPECT_FALSE(in.varint(v));
  EXPECT_FALSE(in.ok());
}

TEST(Codec, OverlongVarintIsRejected) {
  const std::string buf(11, '\x80');
  Decoder in(buf);
  std::uint64_t v = 0;
  EXPECT_FALSE(in.varint(v));
}

}  // namespace
}  // namespace vigil::state
