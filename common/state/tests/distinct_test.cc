#include "common/state/distinct.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::state {
namespace {

TEST(DistinctCounter, ExactBelowTheLimit) {
  DistinctCounter c(8);
  EXPECT_TRUE(c.add(id_of("a")));
  EXPECT_FALSE(c.add(id_of("a")));
  EXPECT_TRUE(c.add(id_of("b")));
  EXPECT_EQ(c.count(), 2u);
  EXPECT_TRUE(c.exact());
  EXPECT_TRUE(c.contains(id_of("b")));
  EXPECT_FALSE(c.contains(id_of("c")));
}

TEST(DistinctCounter, SwitchesToASketchWithinFivePercent) {
  DistinctCounter c(64);
  for (int i = 0; i < 20000; ++i) {
    c.add(id_of("author-" + std::to_string(i)));
    c.add(id_of("author-" + std::to_string(i / 2)));  // repeats must not count
  }
  EXPECT_FALSE(c.exact());
  const double error = std::abs(static_cast<double>(c.count()) - 20000.0) / 20000.0;
  EXPECT_LT(error, 0.05) << c.count();
}

TEST(DistinctCounter, NeverReportsLessThanTheExactLimitOnceApproximate) {
  DistinctCounter c(4);
  for (int i = 0; i < 5; ++i) c.add(id_of(std::to_string(i)));
  EXPECT_FALSE(c.exact());
  EXPECT_GE(c.count(), 5u);
}

TEST(DistinctCounter, EncodesBothModes) {
  for (const int n : {3, 500}) {
    DistinctCounter c(64);
    for (int i = 0; i < n; ++i) c.add(id_of(std::to_string(i)));
    std::string buf;
    Encoder out(buf);
    c.encode(out);
    DistinctCounter back(64);
    Decoder in(buf);
    ASSERT_TRUE(back.decode(in)) << n;
    EXPECT_EQ(back.count(), c.count());
    EXPECT_EQ(back.exact(), c.exact());
  }
}

TEST(DistinctCounter, RejectsCorruptEncodings) {
  DistinctCounter c(2);
  std::string buf;
  Encoder(buf).varint(0).varint(3);  // three ids claimed, limit 2, none present
  Decoder in(buf);
  EXPECT_FALSE(c.decode(in));
  std::string unsorted;
  Encoder(unsorted).varint(0).varint(2).fixed64(9).fixed64(1);
  Decoder in2(unsorted);
  EXPECT_FALSE(c.decode(in2));
}

}  // namespace
}  // namespace vigil::state
