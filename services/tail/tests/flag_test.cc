#include "services/tail/flag.h"

#include <gtest/gtest.h>

namespace vigil::tail {
namespace {

// A flag as vigil-detector writes it (samples/sample-stream.jsonl, first record).
const std::string kFlag =
    R"({"flag_id":"fl_333bf0a82933cdee","kind":"flag","category":"personal_data","severity":"high","score":85,)"
    R"("rule_pack":"vn-core@2026.11.0","rules":[{"id":"text.pd.trade_offer","reason_en":"offers to sell, buy or supply data",)"
    R"("reason_vi":"rao bán","weight":40},{"id":"text.pd.data_noun","reason_en":"names a personal-data set","reason_vi":"x","weight":30}],)"
    R"("entities":[{"type":"account","masked":"telegram:50******12","primary":true},{"type":"url","value":"http://t.me/kho_data_vip"},)"
    R"({"type":"domain","value":"t.me"},{"type":"phone","masked":"09******78"}],)"
    R"("evidence":[{"rule":"text.pd.trade_offer","quote":"Bán DATA","start":2,"end":10}],)"
    R"("source":{"platform":"telegram","topic":"raw.telegram","partition":0,"offset":0,"event_id":"telegram:-1001234567890:1042",)"
    R"("kind":"message","author":"telegram:50******12","permalink":"https://t.me/chodata2024/1042","event_time":"2024-04-01T00:12:20Z"},)"
    R"("detected_at":"2026-11-23T15:40:15.870Z"})";

TEST(Severity, OrderAndNames) {
  EXPECT_LT(Severity::kLow, Severity::kMedium);
  EXPECT_LT(Severity::kMedium, Severity::kHigh);
  EXPECT_LT(Severity::kHigh, Severity::kCritical);
  for (const auto s : {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    EXPECT_EQ(parse_severity(severity_name(s)), s);
  }
  EXPECT_FALSE(parse_severity("High"));
  EXPECT_FALSE(parse_severity("severe"));
  EXPECT_FALSE(parse_severity(""));
}

TEST(FlagParser, ReadsWhatTailNeeds) {
  FlagParser parser;
  FlagView f;
  ASSERT_TRUE(parser.parse(kFlag, f).is_ok());
  EXPECT_EQ(f.flag_id, "fl_333bf0a82933cdee");
  EXPECT_EQ(f.category, "personal_data");
  EXPECT_FALSE(f.subtype);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.rule_ids, (std::vector<std::string>{"text.pd.trade_offer", "text.pd.data_noun"}));
  EXPECT_EQ(f.reason, "offers to sell, buy or supply data");
  ASSERT_EQ(f.entities.size(), 4u);
  ASSERT_NE(f.main_entity(), nullptr);
  EXPECT_EQ(f.main_entity()->masked, "telegram:50******12");
  EXPECT_EQ(f.entities[2].value, "t.me");
  EXPECT_EQ(f.platform, "telegram");
  EXPECT_EQ(f.source_topic, "raw.telegram");
  EXPECT_EQ(f.source_offset, 0);
  EXPECT_EQ(f.permalink, "https://t.me/chodata2024/1042");
  EXPECT_EQ(f.event_time, "2024-04-01T00:12:20Z");
  EXPECT_EQ(f.detected_at_ms, parse_iso8601("2026-11-23T15:40:15.870Z"));
}

TEST(FlagParser, ReusedParserForgetsThePreviousFlag) {
  FlagParser parser;
  FlagView f;
  ASSERT_TRUE(parser.parse(kFlag, f).is_ok());
  ASSERT_TRUE(parser
                  .parse(R"({"flag_id":"fl_1","category":"fraud_link","severity":"low","subtype":"phishing",)"
                         R"("source":{"permalink":null}})",
                         f)
                  .is_ok());
  EXPECT_EQ(f.subtype, "phishing");
  EXPECT_TRUE(f.rule_ids.empty());
  EXPECT_TRUE(f.entities.empty());
  EXPECT_EQ(f.main_entity(), nullptr);
  EXPECT_TRUE(f.permalink.empty());
  EXPECT_FALSE(f.detected_at_ms);
}

TEST(FlagParser, MalformedValuesAreErrorsThatSayWhy) {
  FlagParser parser;
  FlagView f;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not JSON"},
      {"not json", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {R"({"flag_id":"fl_1","category":"x"})", "severity is missing"},
      {R"({"flag_id":"fl_1","category":"x","severity":"extreme"})", "unknown severity 'extreme'"},
      {R"({"category":"x","severity":"low"})", "flag_id is missing"},
      {R"({"flag_id":"fl_1","severity":"low"})", "category is missing"},
      {R"({"flag_id":7,"category":"x","severity":"low"})", "flag_id is not a string"},
      {R"({"flag_id":"fl_1","category":"x","severity":"low","rules":{}})", "rules is not an array"},
      {R"({"flag_id":"fl_1","category":"x","severity":"low","entities":[1]})", "entities[] is not an object"},
      {R"({"flag_id":"fl_1","category":"x","severity":"low","source":{"offset":"7"}})", "source.offset"},
      {R"({"flag_id":"fl_1","category":"x","severity":"low"} trailing)", "not a JSON object"},
      {R"({"flag_id":"fl_1","category":"x","severity":"low","rules":[{"id":"a")", ""},
  };
  for (const auto& [json, why] : cases) {
    const Status st = parser.parse(json, f);
    EXPECT_FALSE(st.is_ok()) << json;
    EXPECT_NE(st.message().find(why), std::string::npos) << json << " -> " << st.message();
  }
  // The parser still works after errors.
  EXPECT_TRUE(parser.parse(kFlag, f).is_ok());
}

}  // namespace
}  // namespace vigil::tail
