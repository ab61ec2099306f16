#include "services/tail/options.h"

#include <gtest/gtest.h>

namespace vigil::tail {
namespace {

constexpr TimestampMs kNow = 1'711'929'600'000;  // 2024-04-01T00:00:00Z

ParsedArgs parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "vigil-tail");
  return parse_args(static_cast<int>(argv.size()), argv.data(), kNow);
}

TEST(Options, EveryFilterAndOutputOption) {
  const ParsedArgs p = parse({"-b",
                              "k:9092",
                              "--topic",
                              "flags.a",
                              "--topic",
                              "flags.b",
                              "--group",
                              "g",
                              "--since",
                              "15m",
                              "--category",
                              "fraud_link",
                              "--category",
                              "personal_data",
                              "--subtype",
                              "phishing",
                              "--min-severity",
                              "high",
                              "--entity",
                              "domain:x.vn",
                              "--entity",
                              "09******78",
                              "--rule",
                              "r1",
                              "--count",
                              "3",
                              "--json",
                              "--no-color",
                              "-X",
                              "fetch.wait.max.ms=10"});
  ASSERT_EQ(p.exit_code, -1) << p.message;
  const Args& a = p.args;
  EXPECT_EQ(a.kafka.brokers, "k:9092");
  EXPECT_EQ(a.kafka.properties, std::vector<std::string>{"fetch.wait.max.ms=10"});
  EXPECT_EQ(a.topics, (std::vector<std::string>{"flags.a", "flags.b"}));
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.filter.since, kNow - 15 * 60'000);
  EXPECT_EQ(a.filter.categories, (std::vector<std::string>{"fraud_link", "personal_data"}));
  EXPECT_EQ(a.filter.subtype, "phishing");
  EXPECT_EQ(a.filter.min_severity, Severity::kHigh);
  ASSERT_EQ(a.filter.entities.size(), 2u);
  EXPECT_EQ(a.filter.entities[0].type, "domain");
  EXPECT_EQ(a.filter.entities[1].value, "09******78");
  EXPECT_EQ(a.filter.rules, std::vector<std::string>{"r1"});
  EXPECT_EQ(a.count, 3u);
  EXPECT_TRUE(a.json);
  EXPECT_TRUE(a.no_color);
}

TEST(Options, HelpHasExamplesAndExitsZero) {
  const ParsedArgs p = parse({"--help"});
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(p.message.find("Examples:"), std::string::npos);
  EXPECT_NE(p.message.find("--min-severity"), std::string::npos);
  EXPECT_NE(p.message.find("Exit codes"), std::string::npos);
}

TEST(Options, BadArgumentsSayWhatToFix) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--min-severity", "severe"}, "use low, medium, high or critical"},
      {{"--count", "ten"}, "--count ten: expected a whole number"},
      {{"--count", "0"}, "at least 1"},
      {{"--count", "-3"}, "--count -3"},
      {{"--since", "yesterday"}, "--since yesterday: not a time"},
      {{"--entity", "domain:"}, "--entity needs a value"},
      {{"--json", "--table"}, "pick one"},
      {{"--from-beginning", "--since", "1h"}, "pick one"},
      {{"--file", "x.jsonl", "--group", "g"}, "for Kafka"},
      {{"--no-such-flag"}, "--no-such-flag"},
  };
  for (const auto& [argv, why] : cases) {
    const ParsedArgs p = parse(argv);
    EXPECT_EQ(p.exit_code, 2) << why;
    EXPECT_NE(p.message.find(why), std::string::npos) << p.message;
  }
}

}  // namespace
}  // namespace vigil::tail
