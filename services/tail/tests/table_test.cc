#include "services/tail/table.h"

#include <gtest/gtest.h>

namespace vigil::tail {
namespace {

FlagView flag(Severity severity) {
  FlagView f;
  f.flag_id = "fl_1";
  f.category = "fraud_link";
  f.severity = severity;
  f.reason = "host imitates vietcombank.com.vn (1 edit)";
  f.entities = {{"url", "http://vietcombamk.com.vn/x", "", false}, {"domain", "vietcombamk.com.vn", "", true}};
  f.permalink = "https://www.facebook.com/1/posts/2";
  f.event_time = "2024-04-01T00:12:20.120Z";
  f.detected_at = "2026-01-01T00:00:00Z";
  return f;
}

TEST(Fit, PadsCutsAndKeepsUtf8Whole) {
  EXPECT_EQ(fit("abc", 5), "abc  ");
  EXPECT_EQ(fit("abcde", 5), "abcde");
  EXPECT_EQ(fit("abcdef", 5), "abcd…");
  EXPECT_EQ(fit("dữ liệu cá nhân", 7), "dữ liệ…");
  EXPECT_EQ(fit("dữ", 3), "dữ ");
  EXPECT_EQ(fit("abc", 0), "");
}

TEST(Table, PlainRowHasEveryColumnInOrder) {
  const std::string row = table_row(flag(Severity::kHigh), {false, 160});
  const std::string gap = "  ";
  EXPECT_EQ(row, "2024-04-01T00:12:20Z" + gap + "high    " + gap + "fraud_link   " + gap + "vietcombamk.com.vn" +
                     std::string(26 - 18, ' ') + gap + "host imitates vietcombank.com.vn (1 edit)" +
                     std::string(160 - 77 - 34 - 41, ' ') + gap + "https://www.facebook.com/1/posts/2\n");
  EXPECT_EQ(row.find('\033'), std::string::npos);
  const std::string header = table_header({false, 160});
  EXPECT_EQ(header.find("EVENT TIME (UTC)"), 0u);
  // Columns line up: the source starts where the header says SOURCE.
  EXPECT_EQ(header.find("SOURCE"), row.find("https://"));
}

TEST(Table, ColoursSeverityOnlyWhenAsked) {
  EXPECT_NE(table_row(flag(Severity::kCritical), {true, 160}).find("\033[1;31mcritical\033[0m"), std::string::npos);
  EXPECT_NE(table_row(flag(Severity::kHigh), {true, 160}).find("\033[31mhigh    \033[0m"), std::string::npos);
  EXPECT_NE(table_row(flag(Severity::kMedium), {true, 160}).find("\033[33mmedium  \033[0m"), std::string::npos);
  EXPECT_EQ(table_row(flag(Severity::kLow), {true, 160}).find('\033'), std::string::npos);
  EXPECT_EQ(table_header({true, 160}).find("\033[1m"), 0u);
  // Escapes take no columns: the colour and plain rows read the same on screen.
  std::string coloured = table_row(flag(Severity::kHigh), {true, 160});
  for (const std::string esc : {"\033[31m", "\033[0m"}) coloured.erase(coloured.find(esc), esc.size());
  EXPECT_EQ(coloured, table_row(flag(Severity::kHigh), {false, 160}));
}

TEST(Table, ReasonShrinksWithTheTerminalButNotBelowAMinimum) {
  const std::string narrow = table_row(flag(Severity::kHigh), {false, 100});
  EXPECT_NE(narrow.find("host imitates vietc…  https://"), std::string::npos) << narrow;
  EXPECT_EQ(table_row(flag(Severity::kHigh), {false, 10}), narrow);
}

TEST(Table, FallsBackWhenFieldsAreMissing) {
  FlagView f = flag(Severity::kMedium);
  f.permalink.clear();
  f.platform = "telegram";
  f.source_topic = "raw.telegram";
  f.source_partition = 2;
  f.source_offset = 41;
  f.event_time.clear();
  f.entities = {{"phone", "", "09******78", false}};
  f.reason.clear();
  const std::string row = table_row(f, {false, 160});
  EXPECT_EQ(row.find("2026-01-01T00:00:00Z"), 0u) << row;  // detected_at without an event time
  EXPECT_NE(row.find("09******78"), std::string::npos);    // the first entity when none is primary
  EXPECT_NE(row.find("telegram raw.telegram/2@41\n"), std::string::npos) << row;
  f.entities.clear();
  f.source_topic.clear();
  f.detected_at.clear();
  const std::string bare = table_row(f, {false, 160});
  EXPECT_EQ(bare.find("-   "), 0u) << bare;
  EXPECT_EQ(bare.substr(bare.size() - 2), "-\n");
}

}  // namespace
}  // namespace vigil::tail
