#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/core/config.h"
#include "common/core/hash.h"
#include "common/core/json_writer.h"
#include "common/core/time.h"

namespace vigil {
namespace {

TEST(Time, ParsesPlatformFormats) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601("2024-03-05T10:00:00+0000"), 1709632800000);
  EXPECT_EQ(parse_iso8601("2024-03-05T17:00:00+07:00"), 1709632800000);
  EXPECT_EQ(parse_iso8601("2024-03-05T10:00:00.25Z"), 1709632800250);
  EXPECT_FALSE(parse_iso8601("2024-03-05T10:00:00").has_value());
  EXPECT_FALSE(parse_iso8601("2024-13-05T10:00:00Z").has_value());
  EXPECT_FALSE(parse_iso8601("yesterday").has_value());
}

TEST(Time, RejectsDatesThatDoNotExist) {
  EXPECT_FALSE(parse_iso8601("2023-02-29T10:00:00Z").has_value());
  EXPECT_FALSE(parse_iso8601("2024-04-31T10:00:00Z").has_value());
  EXPECT_EQ(parse_iso8601("2024-02-29T10:00:00Z"), 1709200800000);
  EXPECT_EQ(parse_iso8601("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_FALSE(parse_iso8601("1900-02-29T00:00:00Z").has_value());
}

// Found by time_fuzz: an offset moved the instant before year 0, which formats as "-001-..."
// and did not parse back.
TEST(Time, RejectsInstantsOutsideFourDigitYears) {
  EXPECT_FALSE(parse_iso8601("0000-01-01T05:00:00+16:15").has_value());
  EXPECT_FALSE(parse_iso8601("9999-12-31T23:00:00-01:30").has_value());
  const auto first = parse_iso8601("0000-01-01T00:00:00Z");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(format_iso8601(*first), "0000-01-01T00:00:00Z");
  const auto last = parse_iso8601("9999-12-31T23:59:59.999Z");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(parse_iso8601(format_iso8601(*last)), last);
}

TEST(Time, FormatsRoundTrip) {
  EXPECT_EQ(format_iso8601(1709632800000), "2024-03-05T10:00:00Z");
  EXPECT_EQ(format_iso8601(1709632800120), "2024-03-05T10:00:00.120Z");
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
  for (TimestampMs t : {0LL, 951782400000LL, 4102444799999LL}) {
    EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
  }
}

TEST(Hash, FieldSeparatesInputs) {
  EXPECT_NE(Fnv1a64().field("ab").field("c").value(), Fnv1a64().field("a").field("bc").value());
  EXPECT_EQ(hex64(Fnv1a64().add("").value()), "cbf29ce484222325");
  EXPECT_EQ(hex64(Fnv1a64().add("a").value()), "af63dc4c8601ec8c");
}

TEST(Json, EscapesAndNests) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("a", "x\"y\n").key("b").begin_array().value(1).value(true).null().end_array();
  w.field("c", std::string_view("\xff")).end_object();
  EXPECT_EQ(out, "{\"a\":\"x\\\"y\\n\",\"b\":[1,true,null],\"c\":\"\xef\xbf\xbd\"}");
}

TEST(Json, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("Tài khoản"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
}

TEST(Json, Base64RoundTrip) {
  for (std::string s :
       {std::string(""), std::string("f"), std::string("fo"), std::string("foo"), std::string("\x00\xff\x10", 3)}) {
    std::string back;
    ASSERT_TRUE(base64_decode(base64_encode(s), back));
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  std::string junk;
  EXPECT_FALSE(base64_decode("a*b", junk));
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/vigil-config-XXXXXX";
  const int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  std::FILE* f = fdopen(fd, "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return name;
}

TEST(Config, LoadsAndResolvesRulePackRelativeToFile) {
  const auto path = write_temp(
      "rule_pack: rules/x.yaml\n"
      "kafka:\n  bootstrap.servers: 127.0.0.1:9092\n"
      "kafka_consumer:\n  group.id: g1\n"
      "inputs:\n  - {topic: raw.telegram, adapter: telegram}\n"
      "batch: {max_records: 10}\n");
  const auto c = load_detector_config(path);
  EXPECT_EQ(c.rule_pack, "/tmp/rules/x.yaml");
  EXPECT_EQ(c.kafka.common.at("bootstrap.servers"), "127.0.0.1:9092");
  EXPECT_EQ(c.kafka.consumer.at("group.id"), "g1");
  ASSERT_EQ(c.inputs.size(), 1u);
  EXPECT_EQ(c.inputs[0].adapter, "telegram");
  EXPECT_EQ(c.batch_max_records, 10u);
  EXPECT_EQ(c.dlq_topic, "vigil.dlq");
  std::remove(path.c_str());
}

TEST(Config, RejectsTyposWithTheKeyName) {
  const auto path = write_temp("batch: {max_recods: 10}\n");
  try {
    (void)load_detector_config(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("batch.max_recods"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(Config, SecretsComeFromFilesAndEnvironment) {
  const auto secret = write_temp("s3cret\n");
  ::setenv("VIGIL_TEST_SASL_USER", "analyst", 1);
  const auto path =
      write_temp("kafka:\n  sasl.password: ${file:" + secret + "}\n  sasl.username: ${env:VIGIL_TEST_SASL_USER}\n");
  const auto c = load_detector_config(path);
  EXPECT_EQ(c.kafka.common.at("sasl.password"), "s3cret");
  EXPECT_EQ(c.kafka.common.at("sasl.username"), "analyst");
  EXPECT_EQ(resolve_secret_ref("k", "plain"), "plain");
  ::unsetenv("VIGIL_TEST_SASL_USER");
  try {
    (void)resolve_secret_ref("sasl.password", "${env:VIGIL_TEST_SASL_USER}");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("VIGIL_TEST_SASL_USER is not set"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)resolve_secret_ref("k", "${file:/nonexistent/secret}"), ConfigError);
  EXPECT_THROW((void)resolve_secret_ref("k", "${vault:x}"), ConfigError);
  std::remove(path.c_str());
  std::remove(secret.c_str());
}

TEST(Config, DocumentedExampleLoads) {
  const auto c = load_detector_config(std::string(VIGIL_SOURCE_DIR) + "/deploy/detector.example.yaml");
  EXPECT_EQ(c.inputs.size(), 6u);
  EXPECT_EQ(c.kafka.consumer.at("group.id"), "vigil-detector");
  EXPECT_EQ(c.rule_pack, std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  EXPECT_EQ(c.state.batch_max_records, 10000u);
}

TEST(Config, StageBBatchSize) {
  EXPECT_EQ(default_detector_config().state.batch_max_records, 10000u);
  const auto path = write_temp("state:\n  batch_max_records: 750\n");
  EXPECT_EQ(load_detector_config(path).state.batch_max_records, 750u);
  std::remove(path.c_str());
  const auto bad = write_temp("state:\n  batch_max_records: 0\n");
  EXPECT_THROW((void)load_detector_config(bad), ConfigError);
  std::remove(bad.c_str());
}

TEST(Config, IntelFeedsAndTopic) {
  const auto path = write_temp(
      "intel:\n"
      "  feeds:\n"
      "    - {name: phish-vn, path: feeds/phish.hosts, format: hosts}\n"
      "    - {name: local.allow, path: /etc/vigil/allow.txt}\n"
      "  blocklist_topic: intel.custom\n"
      "  startup_wait_seconds: 5\n");
  const auto c = load_detector_config(path);
  ASSERT_EQ(c.intel.feeds.size(), 2u);
  EXPECT_EQ(c.intel.feeds[0].path, "/tmp/feeds/phish.hosts");
  EXPECT_EQ(c.intel.feeds[0].format, "hosts");
  EXPECT_EQ(c.intel.feeds[1].format, "auto");
  EXPECT_EQ(c.intel.blocklist_topic, "intel.custom");
  EXPECT_EQ(c.intel.startup_wait_seconds, 5);
  std::remove(path.c_str());
  EXPECT_EQ(default_detector_config().intel.blocklist_topic, "intel.blocklist");

  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"intel: {feeds: [{name: a, path: x, format: csv}]}\n", "intel.feeds[0].format"},
           {"intel: {feeds: [{name: 'a b', path: x}]}\n", "intel.feeds[0].name"},
           {"intel: {feeds: [{name: a, path: x}, {name: a, path: y}]}\n", "intel.feeds[1].name"},
           {"intel: {feeds: [{name: a}]}\n", "intel.feeds[0].path"},
           {"intel: {topic: x}\n", "intel.topic"},
       }) {
    const auto bad = write_temp(text);
    try {
      (void)load_detector_config(bad);
      ADD_FAILURE() << "expected ConfigError for " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
    std::remove(bad.c_str());
  }
}

TEST(Config, RejectsUnknownAdapterAndMissingFile) {
  const auto path = write_temp("inputs:\n  - {topic: t, adapter: myspace}\n");
  EXPECT_THROW((void)load_detector_config(path), ConfigError);
  std::remove(path.c_str());
  EXPECT_THROW((void)load_detector_config("/nonexistent/vigil.yaml"), ConfigError);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// Vectors from Kafka's own UtilsTest.testMurmur2: the Java client's partitioner is
// toPositive(murmur2(key)) % partitions.
TEST(KafkaPartitionForKey, MatchesKafkasMurmur2) {
  const std::pair<std::string, std::int32_t> cases[] = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& [key, hash] : cases) {
    const auto positive = static_cast<std::int32_t>(static_cast<std::uint32_t>(hash) & 0x7fffffff);
    EXPECT_EQ(kafka_partition_for_key(key, 0x7fffffff), positive % 0x7fffffff) << key;
    EXPECT_EQ(kafka_partition_for_key(key, 6), positive % 6) << key;
  }
}

}  // namespace
}  // namespace vigil
