#include "services/tail/filter.h"

#include <gtest/gtest.h>

namespace vigil::tail {
namespace {

FlagView flag() {
  FlagView f;
  f.flag_id = "fl_1";
  f.category = "fraud_link";
  f.severity = Severity::kHigh;
  f.rule_ids = {"text.scam.account_locked", "brand.lookalike.edit1"};
  f.entities = {{"domain", "vietcombamk.com.vn", "", true},
                {"url", "http://vietcombamk.com.vn/xac-thuc", "", false},
                {"phone", "", "09******78", false},
                {"account", "", "telegram:50******12", false}};
  f.detected_at = "2024-04-01T00:00:00Z";
  f.detected_at_ms = parse_iso8601(f.detected_at);
  return f;
}

TEST(EntityFilter, TypeOnlyWhenItIsAnEntityType) {
  auto f = parse_entity_filter("domain:vietcombamk.com.vn");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f.value().type, "domain");
  EXPECT_EQ(f.value().value, "vietcombamk.com.vn");
  f = parse_entity_filter("telegram:50******12");  // an account value, not a type
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f.value().type, "");
  EXPECT_EQ(f.value().value, "telegram:50******12");
  f = parse_entity_filter("account:telegram:50******12");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f.value().type, "account");
  EXPECT_EQ(f.value().value, "telegram:50******12");
  f = parse_entity_filter("url:http://x.vn/a");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f.value().value, "http://x.vn/a");
  EXPECT_FALSE(parse_entity_filter("").is_ok());
  EXPECT_FALSE(parse_entity_filter("phone:").is_ok());
}

TEST(EntityFilter, MatchesValueOrMaskedDomainsIgnoringCase) {
  const FlagView f = flag();
  auto matches = [&](std::string_view text) {
    return std::any_of(f.entities.begin(), f.entities.end(),
                       [&](const Entity& e) { return entity_matches(parse_entity_filter(text).value(), e); });
  };
  EXPECT_TRUE(matches("vietcombamk.com.vn"));
  EXPECT_TRUE(matches("VietcomBAMK.com.vn"));
  EXPECT_TRUE(matches("domain:vietcombamk.com.vn"));
  EXPECT_FALSE(matches("url:vietcombamk.com.vn"));
  EXPECT_TRUE(matches("09******78"));
  EXPECT_TRUE(matches("phone:09******78"));
  EXPECT_FALSE(matches("email:09******78"));
  EXPECT_TRUE(matches("telegram:50******12"));
  EXPECT_FALSE(matches("TELEGRAM:50******12"));  // only domains fold case
  EXPECT_FALSE(matches("vietcombamk.com"));      // whole values only
}

TEST(Filter, EmptyMatchesEverything) {
  EXPECT_TRUE(Filter{}.matches(flag(), std::nullopt));
}

TEST(Filter, EachConditionAndTheirCombination) {
  const FlagView f = flag();
  Filter c;
  c.categories = {"personal_data"};
  EXPECT_FALSE(c.matches(f, std::nullopt));
  c.categories.push_back("fraud_link");  // repeated values: any
  EXPECT_TRUE(c.matches(f, std::nullopt));

  Filter s;
  s.min_severity = Severity::kHigh;
  EXPECT_TRUE(s.matches(f, std::nullopt));
  s.min_severity = Severity::kCritical;
  EXPECT_FALSE(s.matches(f, std::nullopt));
  s.min_severity = Severity::kLow;
  EXPECT_TRUE(s.matches(f, std::nullopt));

  Filter sub;
  sub.subtype = "phishing";
  EXPECT_FALSE(sub.matches(f, std::nullopt));  // no subtype on the flag
  FlagView with_subtype = f;
  with_subtype.subtype = "phishing";
  EXPECT_TRUE(sub.matches(with_subtype, std::nullopt));
  with_subtype.subtype = "smishing";
  EXPECT_FALSE(sub.matches(with_subtype, std::nullopt));

  Filter r;
  r.rules = {"brand.lookalike.edit1"};
  EXPECT_TRUE(r.matches(f, std::nullopt));
  r.rules = {"text.pd.trade_offer"};
  EXPECT_FALSE(r.matches(f, std::nullopt));

  Filter e;
  e.entities = {parse_entity_filter("domain:other.vn").value()};
  EXPECT_FALSE(e.matches(f, std::nullopt));
  e.entities.push_back(parse_entity_filter("09******78").value());
  EXPECT_TRUE(e.matches(f, std::nullopt));

  Filter all;  // AND across kinds
  all.categories = {"fraud_link"};
  all.min_severity = Severity::kMedium;
  all.rules = {"brand.lookalike.edit1"};
  all.entities = {parse_entity_filter("vietcombamk.com.vn").value()};
  EXPECT_TRUE(all.matches(f, std::nullopt));
  all.min_severity = Severity::kCritical;
  EXPECT_FALSE(all.matches(f, std::nullopt));
}

TEST(Filter, SinceUsesDetectedAtThenTheRecordTimestamp) {
  FlagView f = flag();
  const TimestampMs t = *f.detected_at_ms;
  Filter s;
  s.since = t;
  EXPECT_TRUE(s.matches(f, std::nullopt));
  s.since = t + 1;
  EXPECT_FALSE(s.matches(f, t + 5));  // detected_at wins over the record timestamp
  f.detected_at_ms.reset();
  EXPECT_TRUE(s.matches(f, t + 5));
  EXPECT_FALSE(s.matches(f, t));
  EXPECT_FALSE(s.matches(f, std::nullopt));  // no time at all: not shown as recent
}

}  // namespace
}  // namespace vigil::tail
