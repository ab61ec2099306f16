#include "common/cli/cli.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace vigil::cli {
namespace {

constexpr TimestampMs kNow = 1'711'929'600'000;  // 2024-04-01T00:00:00Z

TEST(ParseTime, AcceptsIsoEpochAndDurations) {
  EXPECT_EQ(parse_time("2024-04-01T00:00:00Z", 0), kNow);
  EXPECT_EQ(parse_time("2024-04-01T07:00:00+07:00", 0), kNow);
  EXPECT_EQ(parse_time("1711929600000", 0), kNow);
  EXPECT_EQ(parse_time("now", kNow), kNow);
  EXPECT_EQ(parse_time("15m", kNow), kNow - 15 * 60'000);
  EXPECT_EQ(parse_time("now-2h", kNow), kNow - 2 * 3'600'000);
  EXPECT_EQ(parse_time("7d", kNow), kNow - 7 * 86'400'000LL);
  EXPECT_EQ(parse_time("90s", kNow), kNow - 90'000);
}

TEST(ParseTime, RejectsWhatItCannotReadExactly) {
  EXPECT_FALSE(parse_time("", kNow));
  EXPECT_FALSE(parse_time("yesterday", kNow));
  EXPECT_FALSE(parse_time("15x", kNow));
  EXPECT_FALSE(parse_time("now-", kNow));
  EXPECT_FALSE(parse_time("2024-04-01", kNow));  // no time of day: ambiguous zone
  EXPECT_FALSE(parse_time("-5m", kNow));
  EXPECT_FALSE(parse_time("15666666666666666m", kNow));  // found by fuzz/tool_args_fuzz: overflowed
}

TEST(KafkaFlags, CommandLineWinsOverConfigAndSecretsResolve) {
  CLI::App app;
  KafkaFlags flags;
  add_kafka_flags(app, flags);
  ::setenv("VIGIL_CLI_TEST_PW", "pw", 1);
  const char* argv[] = {
      "tool", "-b", "127.0.0.1:1", "-X", "linger.ms=7", "-X", "sasl.password=${env:VIGIL_CLI_TEST_PW}"};
  app.parse(7, const_cast<char**>(argv));
  DetectorConfig config = default_detector_config();
  config.kafka.common["bootstrap.servers"] = "from-config:9092";
  config.kafka.common["linger.ms"] = "1";
  config.kafka.consumer["group.id"] = "g";
  config.kafka.producer["transactional.id"] = "t";
  const auto consumer = kafka_properties(flags, config, Role::kConsumer);
  EXPECT_EQ(consumer.at("bootstrap.servers"), "127.0.0.1:1");
  EXPECT_EQ(consumer.at("linger.ms"), "7");
  EXPECT_EQ(consumer.at("sasl.password"), "pw");
  EXPECT_EQ(consumer.at("group.id"), "g");
  const auto producer = kafka_properties(flags, config, Role::kProducer);
  EXPECT_EQ(producer.count("group.id"), 0u);
  EXPECT_EQ(producer.count("transactional.id"), 0u);
  ::unsetenv("VIGIL_CLI_TEST_PW");
}

TEST(KafkaFlags, MalformedPropertyAndMissingBrokersSayWhatToFix) {
  KafkaFlags flags;
  flags.properties = {"linger.ms"};
  flags.brokers = "b:1";
  try {
    (void)kafka_properties(flags, default_detector_config(), Role::kAdmin);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("-X linger.ms: expected key=value"), std::string::npos) << e.what();
  }
  flags = {};
  try {
    (void)kafka_properties(flags, default_detector_config(), Role::kAdmin);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("give -b host:port"), std::string::npos) << e.what();
  }
}

TEST(Progress, RendersBarRateAndEta) {
  EXPECT_EQ(Progress::render(1000, 50, 100, 2.0), "[############------------]  50%  1,000 rec  500 rec/s  ETA 0:02");
  EXPECT_EQ(Progress::render(0, 0, 0, 0.0), "[------------------------]   0%  0 rec  0 rec/s");
  EXPECT_EQ(group_digits(1234567), "1,234,567");
  EXPECT_EQ(group_digits(12), "12");
  EXPECT_EQ(group_digits(123456), "123,456");
}

}  // namespace
}  // namespace vigil::cli
