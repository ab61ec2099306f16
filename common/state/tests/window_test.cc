#include "common/state/window.h"

#include <gtest/gtest.h>

namespace vigil::state {
namespace {

constexpr TimestampMs kMin = 60'000;

TEST(WindowSpec, HoppingWindowsContainingATime) {
  const WindowSpec spec{60 * kMin, 15 * kMin, 0};
  std::vector<TimestampMs> starts;
  spec.starts_containing(100 * kMin, starts);
  EXPECT_EQ(starts, (std::vector<TimestampMs>{45 * kMin, 60 * kMin, 75 * kMin, 90 * kMin}));
  spec.starts_containing(90 * kMin, starts);  // a start is inside its own window
  EXPECT_EQ(starts.front(), 45 * kMin);
  EXPECT_EQ(starts.back(), 90 * kMin);
  EXPECT_EQ(starts.size(), 4u);
}

TEST(WindowSpec, TumblingAndNegativeTimes) {
  const WindowSpec spec{10, 10, 0};
  std::vector<TimestampMs> starts;
  spec.starts_containing(-1, starts);
  EXPECT_EQ(starts, (std::vector<TimestampMs>{-10}));
  spec.starts_containing(25, starts);
  EXPECT_EQ(starts, (std::vector<TimestampMs>{20}));
}

TEST(WindowSpec, ClosedAfterEndPlusGrace) {
  const WindowSpec spec{10, 10, 5};
  EXPECT_FALSE(spec.closed(0, 14));
  EXPECT_TRUE(spec.closed(0, 15));
}

TEST(WindowedCounts, KeepsWindowsSortedPrunesAndRoundTrips) {
  const WindowSpec spec{10, 5, 0};
  WindowedCounts counts;
  counts.window(10).posts = 2;
  counts.window(0).distinct.add(7);
  counts.window(5).reported = 3;
  ASSERT_EQ(counts.windows().size(), 3u);
  EXPECT_EQ(counts.windows()[0].start, 0);
  EXPECT_EQ(counts.windows()[2].start, 10);
  EXPECT_EQ(counts.closes_at(spec), 20);

  std::string buf;
  Encoder out(buf);
  counts.encode(out);
  WindowedCounts back;
  Decoder in(buf);
  ASSERT_TRUE(back.decode(in));
  ASSERT_EQ(back.windows().size(), 3u);
  EXPECT_EQ(back.windows()[2].posts, 2u);
  EXPECT_EQ(back.windows()[1].reported, 3u);
  EXPECT_TRUE(back.windows()[0].distinct.contains(7));

  back.prune(spec, 15);  // [0,10) and [5,15) are closed
  ASSERT_EQ(back.windows().size(), 1u);
  EXPECT_EQ(back.windows()[0].start, 10);
}

TEST(WindowedCounts, RejectsCorruption) {
  std::string buf;
  Encoder(buf).varint(1000000);
  WindowedCounts c;
  Decoder in(buf);
  EXPECT_FALSE(c.decode(in));
}

}  // namespace
}  // namespace vigil::state
