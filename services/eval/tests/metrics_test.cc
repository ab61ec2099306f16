#include "services/eval/metrics.h"

#include <gtest/gtest.h>

namespace vigil::eval {
namespace {

Scoreboard board() {
  return Scoreboard({{"personal_data", ""}, {"scam", ""}, {"scam", "loan_shark"}, {"scam", "fake_job"}});
}

Counts counts(const Scoreboard& b, const std::string& category, const std::string& subtype = "") {
  const Counts* c = b.find({category, subtype});
  EXPECT_NE(c, nullptr) << category << "/" << subtype;
  return c != nullptr ? *c : Counts{};
}

TEST(Counts, PrecisionAndRecallFromCounts) {
  const Counts c{8, 2, 4};
  ASSERT_TRUE(c.precision().has_value());
  ASSERT_TRUE(c.recall().has_value());
  EXPECT_DOUBLE_EQ(*c.precision(), 0.8);
  EXPECT_DOUBLE_EQ(*c.recall(), 8.0 / 12.0);
}

TEST(Counts, UndefinedWithoutPredictionsOrLabels) {
  EXPECT_FALSE((Counts{0, 0, 3}).precision().has_value());  // nothing predicted
  EXPECT_EQ(*(Counts{0, 0, 3}).recall(), 0.0);
  EXPECT_FALSE((Counts{0, 2, 0}).recall().has_value());  // nothing labelled
  EXPECT_EQ(*(Counts{0, 2, 0}).precision(), 0.0);
  EXPECT_FALSE(Counts{}.precision().has_value());
  EXPECT_EQ(format_ratio(std::nullopt), "-");
  EXPECT_EQ(format_ratio(2.0 / 3.0), "0.667");
}

TEST(Scoreboard, CountsEachCategoryOfEachRecord) {
  Scoreboard b = board();
  b.add({{"personal_data"}, ""}, {{"personal_data", ""}});  // TP
  b.add({{"personal_data"}, ""}, {});                       // FN
  b.add({{}, ""}, {{"personal_data", ""}});                 // FP
  b.add({{}, ""}, {});                                      // TN: counted nowhere
  EXPECT_EQ(counts(b, "personal_data"), (Counts{1, 1, 1}));
  EXPECT_EQ(counts(b, "scam"), (Counts{0, 0, 0}));
  EXPECT_EQ(b.records(), 4u);
  EXPECT_EQ(b.negatives(), 2u);
}

TEST(Scoreboard, SeveralFlagsOfOneCategoryCountOnce) {
  Scoreboard b = board();
  b.add({{"scam"}, "loan_shark"}, {{"scam", "loan_shark"}, {"scam", "loan_shark"}});
  EXPECT_EQ(counts(b, "scam"), (Counts{1, 0, 0}));
  EXPECT_EQ(counts(b, "scam", "loan_shark"), (Counts{1, 0, 0}));
}

TEST(Scoreboard, WrongSubtypeIsRightCategoryButMissAndFalseAlarmForSubtypes) {
  Scoreboard b = board();
  b.add({{"scam"}, "loan_shark"}, {{"scam", "fake_job"}});
  EXPECT_EQ(counts(b, "scam"), (Counts{1, 0, 0}));
  EXPECT_EQ(counts(b, "scam", "loan_shark"), (Counts{0, 0, 1}));
  EXPECT_EQ(counts(b, "scam", "fake_job"), (Counts{0, 1, 0}));
}

TEST(Scoreboard, MultiLabelRecordsScoreEveryCategory) {
  Scoreboard b = board();
  // Labelled personal_data and scam; flagged scam only, and personal_data is missed.
  b.add({{"personal_data", "scam"}, "fake_job"}, {{"scam", "fake_job"}});
  EXPECT_EQ(counts(b, "personal_data"), (Counts{0, 0, 1}));
  EXPECT_EQ(counts(b, "scam"), (Counts{1, 0, 0}));
  EXPECT_EQ(counts(b, "scam", "fake_job"), (Counts{1, 0, 0}));
  EXPECT_EQ(counts(b, "scam", "loan_shark"), (Counts{0, 0, 0}));
}

TEST(Scoreboard, MergeAddsRowsAndRecords) {
  Scoreboard a = board();
  Scoreboard b = board();
  a.add({{"scam"}, "loan_shark"}, {{"scam", "loan_shark"}});
  b.add({{"scam"}, "loan_shark"}, {});
  b.add({{}, ""}, {{"scam", "fake_job"}});
  a.merge(b);
  EXPECT_EQ(counts(a, "scam"), (Counts{1, 1, 1}));
  EXPECT_EQ(counts(a, "scam", "loan_shark"), (Counts{1, 0, 1}));
  EXPECT_EQ(counts(a, "scam", "fake_job"), (Counts{0, 1, 0}));
  EXPECT_EQ(a.records(), 3u);
  EXPECT_EQ(a.negatives(), 1u);
  ASSERT_EQ(a.rows().size(), 4u);  // same rows, same order
  EXPECT_EQ(a.rows()[2].key.name(), "scam/loan_shark");
}

TEST(Floors, ExactlyAtTheFloorPasses) {
  Scoreboard b({{"personal_data", ""}, {"scam", ""}});
  // personal_data: 19 of 20 flags right, precision 0.95 exactly. scam: 9 of 10 found, recall 0.90.
  for (int i = 0; i < 19; ++i) b.add({{"personal_data"}, ""}, {{"personal_data", ""}});
  b.add({{}, ""}, {{"personal_data", ""}});
  for (int i = 0; i < 9; ++i) b.add({{"scam"}, ""}, {{"scam", ""}});
  b.add({{"scam"}, ""}, {});
  EXPECT_EQ(counts(b, "personal_data"), (Counts{19, 1, 0}));
  EXPECT_EQ(counts(b, "scam"), (Counts{9, 0, 1}));
  EXPECT_TRUE(below_floors(b, {0.95, 0.90}, "f").empty());
  // One more false alarm and one more miss and both fall below.
  b.add({{}, ""}, {{"personal_data", ""}});
  b.add({{"scam"}, ""}, {});
  EXPECT_EQ(below_floors(b, {0.95, 0.90}, "f").size(), 2u);
}

TEST(Floors, NamesTheCategoryTheMetricAndTheCounts) {
  Scoreboard b = board();
  for (int i = 0; i < 17; ++i) b.add({{"scam"}, "loan_shark"}, {{"scam", "loan_shark"}});
  for (int i = 0; i < 3; ++i) b.add({{"scam"}, "loan_shark"}, {});
  b.add({{}, ""}, {{"personal_data", ""}});
  const auto failures = below_floors(b, {0.95, 0.90}, "tune.jsonl");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0], "tune.jsonl: personal_data precision 0.000 (0/1) < 0.95");
  EXPECT_EQ(failures[1], "tune.jsonl: scam recall 0.850 (17/20) < 0.90");
}

TEST(Floors, SubtypeRowsAndUndefinedValuesAreNotJudged) {
  Scoreboard b = board();
  // Right category, wrong subtype: the subtype rows are poor, the category row is perfect.
  for (int i = 0; i < 5; ++i) b.add({{"scam"}, "loan_shark"}, {{"scam", "fake_job"}});
  // personal_data: never labelled, never predicted; both ratios undefined.
  EXPECT_TRUE(below_floors(b, {0.95, 0.90}, "f").empty());
  EXPECT_FALSE(below_floors(b, {0.95, 1.01}, "f").empty());  // a floor above 1 cannot be met
}

}  // namespace
}  // namespace vigil::eval
