// End-to-end tests of vigil-detector against a real Apache Kafka broker (KRaft, started by
// deploy/kafka/kafka-local.sh unless VIGIL_KAFKA_BOOTSTRAP points at one).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "common/io/envelope.h"
#include "common/io/file/file_io.h"
#include "tests/support/http_client.h"
#include "tests/support/kafka_cluster.h"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

std::string header(const io::Record& r, std::string_view key) {
  for (const auto& h : r.headers) {
    if (h.key == key) return h.value.value_or("");
  }
  return "<none>";
}

io::Record raw(const std::string& topic, std::string value, std::string key = "k") {
  io::Record r;
  r.topic = topic;
  r.partition = 0;
  r.key = std::move(key);
  r.value = std::move(value);
  r.timestamp = 1711930340000;
  return r;
}

// Topics and config of one detector run, named so that no two runs share anything.
struct Deployment {
  std::string prefix = unique_name("it");
  std::string telegram = prefix + ".raw.telegram";
  std::string facebook = prefix + ".raw.facebook";
  std::string flags_prefix = prefix + ".flags.";
  std::string dlq = prefix + ".dlq";
  std::string group = prefix + ".detector";
  std::string intel = prefix + ".intel.blocklist";  // created only by the tests that use it
  std::string dir = ::testing::TempDir() + prefix;
  std::string config_path = dir + "/detector.yaml";

  Deployment() {
    std::filesystem::create_directories(dir);
    create_topics(
        {telegram, facebook, flags_prefix + "personal_data", flags_prefix + "fraud_link", flags_prefix + "scam", dlq});
  }

  void write_config(const std::vector<std::pair<std::string, std::string>>& inputs) const {
    std::ofstream out(config_path);
    out << "kafka:\n  bootstrap.servers: " << kafka_bootstrap() << "\n";
    out << "kafka_consumer:\n  group.id: " << group << "\n  statistics.interval.ms: 500\n";
    out << "kafka_producer:\n  transactional.id: " << prefix << ".txn\n";
    out << "inputs:\n";
    for (const auto& [topic, adapter] : inputs) out << "  - {topic: " << topic << ", adapter: " << adapter << "}\n";
    out << "outputs:\n  flags_topic_prefix: " << flags_prefix << "\n  dlq_topic: " << dlq << "\n";
    out << "batch:\n  max_records: 100\n  max_wait_ms: 50\n";
    out << "metrics:\n  listen: 127.0.0.1:0\n";
    out << "intel:\n  blocklist_topic: " << intel << "\n  startup_wait_seconds: 20\n";
    out << "state:\n  observations_topic: " << prefix << ".observations\n  changelog_topic: " << prefix
        << ".changelog\n  partitions: 3\n";
  }

  // The bundled rule pack under `version`, written (by rename, as ConfigMaps are) to `path`.
  static void write_pack(const std::string& path, const std::string& version) {
    std::string text = read_file(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
    const auto at = text.find("\nversion: ");
    ASSERT_NE(at, std::string::npos);
    text.replace(at + 1, text.find('\n', at + 1) - at - 1, "version: " + version);
    std::ofstream(path + ".tmp") << text;
    std::filesystem::rename(path + ".tmp", path);
  }

  int start_detector() const { return spawn({VIGIL_DETECTOR_BIN, "--config", config_path}, dir + "/detector.log"); }
  std::string log() const { return read_file(dir + "/detector.log"); }

  // The metrics port the running detector logged, waiting for it to appear.
  int metrics_port() const {
    static const std::regex port_line("metrics on port ([0-9]+)");
    // Up to 60 s (under ASan start-up can take several seconds); ends when the line appears.
    for (int i = 0; i < 1200; ++i) {
      std::smatch m;
      const std::string text = log();
      if (std::regex_search(text, m, port_line)) return std::stoi(m[1]);
      std::this_thread::sleep_for(50ms);
    }
    return 0;
  }
};

// Polls `path` until the response contains every one of `needles` or `timeout` passes;
// returns the last response.
std::string wait_for_http(int port, const std::string& path, const std::vector<std::string>& needles,
                          std::chrono::milliseconds timeout = 20s) {
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    response = http_get(port, path);
    if (std::all_of(needles.begin(), needles.end(),
                    [&](const std::string& n) { return response.find(n) != std::string::npos; })) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  return response;
}

TEST(Broker, IsARealKafkaBroker) {
  const ClusterFacts facts = describe_cluster();
  // A KRaft cluster id is a base64url UUID of 22 characters; the broker answers
  // DescribeConfigs with its real process roles, which librdkafka's mock cluster cannot.
  EXPECT_EQ(facts.cluster_id.size(), 22u) << facts.cluster_id;
  EXPECT_EQ(facts.broker_count, 1);
  EXPECT_EQ(facts.process_roles, "broker,controller");
  EXPECT_FALSE(facts.log_dirs.empty());
}

const std::string kSelling =
    R"({"update_id":1,"message":{"message_id":7,"from":{"id":5012345612},"chat":{"id":-100},"date":1711930340,)"
    R"("text":"Bán data khách hàng, ib Zalo 0912345678"}})";
const std::string kLookalike =
    R"({"id":"1_2","message":"Tài khoản bị tạm khóa, xác thực tại vietcombamk.com.vn/xac-thuc","created_time":"2024-04-01T00:00:00+0000"})";
const std::string kBroken = R"({"update_id":2,"message":{"message_id":)";

TEST(Detector, FlagsDeadLettersAndStopsCleanlyOnSigterm) {
  Deployment d;
  d.write_config({{d.telegram, "telegram"}, {d.facebook, "facebook"}});
  produce({raw(d.telegram, kSelling, "a"), raw(d.telegram, kBroken, "b"), raw(d.facebook, kLookalike, "c")});
  const int pid = d.start_detector();
  const int metrics = d.metrics_port();
  ASSERT_GT(metrics, 0) << d.log();
  // Ready once it has joined the group; alive while its loop turns.
  EXPECT_NE(wait_for_http(metrics, "/readyz", {"HTTP/1.1 200"}).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(http_get(metrics, "/healthz").find("HTTP/1.1 200"), std::string::npos);

  const auto pd = consume(d.flags_prefix + "personal_data", 1);
  // The content flag from stage A, then stage B's: the lookalike domain is new.
  const auto fl = consume(d.flags_prefix + "fraud_link", 2);
  const auto dead = consume(d.dlq, 1);
  ASSERT_EQ(pd.size(), 1u) << d.log();
  ASSERT_EQ(fl.size(), 2u) << d.log();
  EXPECT_EQ(fl[0].value->find("\"id\":\"state."), std::string::npos) << *fl[0].value;
  EXPECT_NE(fl[1].value->find("\"id\":\"state.domain.new_lookalike\""), std::string::npos) << *fl[1].value;
  EXPECT_NE(fl[1].value->find("\"brand\":\"vietcombank.com.vn\""), std::string::npos) << *fl[1].value;
  EXPECT_EQ(fl[1].key, "vietcombamk.com.vn");
  ASSERT_EQ(dead.size(), 1u) << d.log();

  EXPECT_EQ(header(pd[0], "category"), "personal_data");
  EXPECT_EQ(header(pd[0], "severity"), "high");
  EXPECT_EQ(pd[0].key, "telegram:50******12");
  const std::string& v = *pd[0].value;
  for (const std::string& field : std::vector<std::string>{
           "\"flag_id\":\"fl_", "\"score\":85", "\"rule_pack\":\"vn-core@", "\"rules\":[", "\"entities\":[",
           "\"evidence\":[", "\"topic\":\"" + d.telegram + "\"", "\"partition\":0", "\"offset\":0",
           "\"event_id\":\"telegram:-100:7\"", "\"event_time\":\"2024-04-01T00:12:20Z\"", "\"detected_at\":\""}) {
    EXPECT_NE(v.find(field), std::string::npos) << field << " in " << v;
  }
  EXPECT_EQ(v.find("0912345678"), std::string::npos) << "unmasked phone in " << v;
  EXPECT_EQ(fl[0].key, "vietcombamk.com.vn");
  EXPECT_NE(fl[0].value->find("\"brand\":\"vietcombank.com.vn\""), std::string::npos);

  // The dead letter keeps the original bytes and says why and where from.
  EXPECT_EQ(dead[0].value, kBroken);
  EXPECT_EQ(dead[0].key, "b");
  EXPECT_EQ(header(dead[0], "vigil.dlq.reason"), "invalid_json");
  EXPECT_EQ(header(dead[0], "vigil.source.topic"), d.telegram);
  EXPECT_EQ(header(dead[0], "vigil.source.offset"), "1");

  // The partition keeps moving after the malformed record. This one is stamped now (the
  // others carry 2024 timestamps), so it is the one event-to-flag latency counts.
  io::Record later = raw(d.telegram, kSelling, "later");
  later.timestamp = 0;  // the producer stamps it
  produce({later});
  const auto pd2 = consume(d.flags_prefix + "personal_data", 2);
  ASSERT_EQ(pd2.size(), 2u) << d.log();

  // The counters moved with the records: scraped from the running process.
  const std::string pd_severity = header(pd[0], "severity");
  const std::string fl_severity = header(fl[0], "severity");
  std::smatch first_rule;
  ASSERT_TRUE(std::regex_search(*pd[0].value, first_rule, std::regex("\"rules\":\\[\\{\"id\":\"([^\"]+)\"")));
  const std::vector<std::string> expected = {
      "vigil_records_in_total{topic=\"" + d.telegram + "\"} 3",
      "vigil_records_in_total{topic=\"" + d.facebook + "\"} 1",
      "vigil_flags_total{category=\"personal_data\",severity=\"" + pd_severity + "\"} 2",
      // The content flag and stage B's (both high).
      "vigil_flags_total{category=\"fraud_link\",severity=\"" + fl_severity + "\"} 2",
      "vigil_rule_hits_total{rule=\"state.domain.new_lookalike\"} 1", "vigil_state_ready 1",
      "vigil_rule_hits_total{rule=\"" + first_rule[1].str() + "\"} 2",
      "vigil_dead_letters_total{reason=\"invalid_json\"} 1", "vigil_event_to_flag_seconds_count 1",
      "vigil_assigned_partitions 2", "vigil_restoring_partitions 0",
      // Caught up: from the consumer's position, as librdkafka's own lag stays unknown when
      // offsets are committed in transactions.
      "vigil_consumer_lag{partition=\"0\",topic=\"" + d.telegram + "\"} 0", "vigil_ready 1"};
  const std::string scraped = wait_for_http(metrics, "/metrics", expected);
  for (const auto& line : expected) EXPECT_NE(scraped.find(line), std::string::npos) << line << "\n" << scraped;
  // Commits were timed, and the group assignment was seen.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(scraped, m, std::regex("vigil_transaction_commit_seconds_count ([0-9]+)"))) << scraped;
  EXPECT_GE(std::stoi(m[1].str()), 2);
  ASSERT_TRUE(std::regex_search(scraped, m, std::regex("vigil_rebalances_total ([0-9]+)"))) << scraped;
  EXPECT_GE(std::stoi(m[1].str()), 1);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto code = wait_exit(pid, 60s);
  ASSERT_TRUE(code.has_value()) << "detector did not stop after SIGTERM\n" << d.log();
  EXPECT_EQ(*code, 0) << d.log();
  EXPECT_NE(d.log().find("flags: 3"), std::string::npos) << d.log();  // stage A's summary
  // Offsets of everything processed were committed (in the transactions).
  const auto committed = committed_offsets(d.group, {d.telegram, d.facebook});
  EXPECT_EQ(committed.at(d.telegram), 3);
  EXPECT_EQ(committed.at(d.facebook), 1);
}

TEST(Detector, RulePackReloadsOnSighupKeepsTheOldOneWhenBrokenAndLosesNoRecord) {
  Deployment d;
  d.write_config({{d.telegram, "telegram"}});
  const std::string pack = d.dir + "/pack.yaml";
  Deployment::write_pack(pack, "1.0.0");
  const int pid = spawn({VIGIL_DETECTOR_BIN, "--config", d.config_path, "--rule-pack", pack}, d.dir + "/detector.log");
  const int metrics = d.metrics_port();
  ASSERT_GT(metrics, 0) << d.log();
  const std::string topic = d.flags_prefix + "personal_data";
  auto rule_pack_of = [](const io::Record& r) {
    std::smatch m;
    std::regex_search(*r.value, m, std::regex("\"rule_pack\":\"([^\"]+)\""));
    return m[1].str();
  };

  produce({raw(d.telegram, kSelling, "a")});
  auto flags = consume(topic, 1);
  ASSERT_EQ(flags.size(), 1u) << d.log();
  EXPECT_EQ(rule_pack_of(flags[0]), "vn-core@1.0.0");

  // A broken pack: rejected, counted, and the old pack keeps judging.
  std::ofstream(pack + ".tmp") << "name: vn-core\nversion: [broken\n";
  std::filesystem::rename(pack + ".tmp", pack);
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  EXPECT_NE(wait_for_http(metrics, "/metrics", {"vigil_rule_pack_reload_failures_total 1"})
                .find("vigil_rule_pack_reload_failures_total 1"),
            std::string::npos)
      << d.log();
  produce({raw(d.telegram, kSelling, "b")});
  flags = consume(topic, 2);
  ASSERT_EQ(flags.size(), 2u) << d.log();
  EXPECT_EQ(rule_pack_of(flags[1]), "vn-core@1.0.0");

  // A good pack: the next records are judged by it; nothing lost, nothing twice.
  Deployment::write_pack(pack, "2.0.0");
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  EXPECT_NE(
      wait_for_http(metrics, "/metrics", {"vigil_rule_pack_info{version=\"vn-core@2.0.0\"} 1"}).find("vn-core@2.0.0"),
      std::string::npos)
      << d.log();
  produce({raw(d.telegram, kSelling, "c")});
  // The third offer of the same seller within 7 days: stage B adds a flag of its own.
  flags = consume(topic, 4);
  ASSERT_EQ(flags.size(), 4u) << d.log();
  EXPECT_EQ(rule_pack_of(flags[2]), "vn-core@2.0.0");
  EXPECT_NE(flags[3].value->find("\"id\":\"state.author.repeat_personal_data\""), std::string::npos) << *flags[3].value;
  EXPECT_NE(d.log().find("rule pack reload rejected"), std::string::npos) << d.log();

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait_exit(pid, 60s), 0) << d.log();
}

TEST(Detector, RestartResumesWithoutDuplicateFlags) {
  Deployment d;
  d.write_config({{d.telegram, "telegram"}});
  produce({raw(d.telegram, kSelling, "1")});
  int pid = d.start_detector();
  ASSERT_EQ(consume(d.flags_prefix + "personal_data", 1).size(), 1u) << d.log();
  ::kill(pid, SIGTERM);
  ASSERT_EQ(wait_exit(pid, 60s), 0) << d.log();

  produce({raw(d.telegram, kSelling, "2")});
  pid = d.start_detector();
  const auto flags = consume(d.flags_prefix + "personal_data", 2, 60s, 3s);
  ::kill(pid, SIGTERM);
  ASSERT_EQ(wait_exit(pid, 60s), 0) << d.log();
  EXPECT_EQ(flags.size(), 2u) << "the first record was processed again after restart";
}

// A Facebook post linking `url`, with nothing else suspicious in it.
std::string post_linking(const std::string& id, const std::string& url) {
  return R"({"id":")" + id + R"(","message":"Đơn hàng của bạn đang chờ giao, xem tại )" + url +
         R"(","created_time":"2024-04-01T00:00:00+0000"})";
}

// Stage A's flags among `flags`: stage B adds stateful ones (with a window) for lookalikes.
std::vector<io::Record> stage_a_flags(std::vector<io::Record> flags) {
  std::erase_if(flags, [](const io::Record& r) { return r.value->find("\"window\":") != std::string::npos; });
  return flags;
}

TEST(Detector, BlocklistTopicEntriesFlagLinksTombstonesRemoveThemAndRestartsKeepThem) {
  Deployment d;
  create_topics({d.intel}, 1, {{"cleanup.policy", "compact"}});
  d.write_config({{d.facebook, "facebook"}});
  const std::string fraud = d.flags_prefix + "fraud_link";
  // Published before the start: read before the first batch.
  produce({raw(d.intel, R"({"feed":"police-tips","reason":"reported in SMS"})", "early-phish.com.vn")});
  int pid = d.start_detector();
  int metrics = d.metrics_port();
  ASSERT_GT(metrics, 0) << d.log();
  const std::string one = "vigil_blocklist_entries{feed=\"police-tips\",source=\"topic\"} 1";
  EXPECT_NE(wait_for_http(metrics, "/metrics", {one, "vigil_blocklist_topic_up 1"}).find(one), std::string::npos)
      << d.log();

  // Published while it runs: applied between batches, and a later post linking a subdomain of
  // the listed domain is a high fraud_link flag naming the feed.
  produce({raw(d.intel, "police-tips", "Giaohang-Nhanh.com.vn")});
  const std::string two = "vigil_blocklist_entries{feed=\"police-tips\",source=\"topic\"} 2";
  ASSERT_NE(wait_for_http(metrics, "/metrics", {two}).find(two), std::string::npos) << d.log();
  produce({raw(d.facebook, post_linking("1_1", "https://track.giaohang-nhanh.com.vn/don/123"), "p1")});
  auto flags = consume(fraud, 1);
  ASSERT_EQ(flags.size(), 1u) << d.log();
  EXPECT_EQ(flags[0].key, "giaohang-nhanh.com.vn");
  EXPECT_EQ(header(flags[0], "severity"), "high");
  const std::string& v = *flags[0].value;
  for (const std::string field : {R"("id":"intel.blocklist")", R"("feeds":["police-tips"])",
                                  R"("reason_en":"giaohang-nhanh.com.vn is on the known-bad list 'police-tips'")",
                                  R"("type":"domain","value":"giaohang-nhanh.com.vn","primary":true)",
                                  R"("score_breakdown":{"signals":[{"rule":"intel.blocklist","weight":80}])"}) {
    EXPECT_NE(v.find(field), std::string::npos) << field << " in " << v;
  }
  const std::string hits = "vigil_blocklist_hits_total{feed=\"police-tips\"} 1";
  EXPECT_NE(wait_for_http(metrics, "/metrics", {hits}).find(hits), std::string::npos) << d.log();

  // An empty value is no entry (counted and skipped); a tombstone removes the entry, and the
  // same link no longer flags. The lookalike after it shows the post was processed.
  produce({raw(d.intel, "", "giaohang-nhanh.com.vn")});
  {
    io::Record tombstone = raw(d.intel, "", "giaohang-nhanh.com.vn");
    tombstone.value.reset();
    produce({tombstone});
  }
  const std::string removed = "vigil_blocklist_entries{feed=\"police-tips\",source=\"topic\"} 1";
  ASSERT_NE(wait_for_http(metrics, "/metrics", {removed, "vigil_blocklist_malformed_records_total 1"}).find(removed),
            std::string::npos)
      << d.log();
  produce({raw(d.facebook, post_linking("1_2", "https://track.giaohang-nhanh.com.vn/don/456"), "p2"),
           raw(d.facebook, kLookalike, "p3")});
  flags = stage_a_flags(consume(fraud, 3));  // and stage B's first-seen flag for the lookalike
  ASSERT_EQ(flags.size(), 2u) << d.log();
  EXPECT_EQ(flags[1].key, "vietcombamk.com.vn");

  // A restart reads the topic from the beginning again: the early entry still flags (in the
  // very first batch), the removed one still does not.
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_EQ(wait_exit(pid, 60s), 0) << d.log();
  produce({raw(d.facebook, post_linking("1_4", "https://track.giaohang-nhanh.com.vn/don/789"), "p4"),
           raw(d.facebook, post_linking("1_5", "http://early-phish.com.vn/login"), "p5")});
  pid = d.start_detector();
  flags = stage_a_flags(consume(fraud, 4));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 60s), 0) << d.log();
  ASSERT_EQ(flags.size(), 3u) << d.log();
  EXPECT_EQ(flags[2].key, "early-phish.com.vn");
  EXPECT_NE(flags[2].value->find("is on the known-bad list 'police-tips': reported in SMS"), std::string::npos)
      << *flags[2].value;
  EXPECT_NE(d.log().find("blocklist topic " + d.intel + ": 1 entries"), std::string::npos) << d.log();
}

// Rewrites the bundled samples onto this run's topic names, so offline and online see the
// very same records (same topics, partitions and offsets).
std::vector<io::Record> renamed_samples(const std::string& prefix) {
  auto src = io::open_file_source({std::string(VIGIL_SOURCE_DIR) + "/samples/sample-stream.jsonl"});
  EXPECT_TRUE(src.is_ok());
  std::vector<io::Record> records;
  while (!src.value()->at_end()) EXPECT_TRUE(src.value()->poll(records, 1000, 0ms).is_ok());
  for (auto& r : records) r.topic = prefix + "." + r.topic;
  return records;
}

// A flag without its wall-clock detected_at (also its record timestamp): everything else
// must match between runs.
std::string comparable(const io::Record& r) {
  static const std::regex detected_at("\"detected_at\":\"[^\"]*\"");
  std::string headers;
  for (const auto& h : r.headers) headers += h.key + "=" + h.value.value_or("") + ";";
  return r.topic + "|" + r.key.value_or("") + "|" + headers + "|" + std::regex_replace(*r.value, detected_at, "");
}

TEST(Detector, OfflineAndOnlineProduceTheSameFlagsForTheSamples) {
  Deployment d;
  const auto samples = renamed_samples(d.prefix);
  std::set<std::string> topics;
  for (const auto& r : samples) topics.insert(r.topic);
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& t : topics) {
    const std::string base = t.substr(d.prefix.size() + 5);  // "<prefix>.raw.telegram" -> "telegram"
    inputs.emplace_back(t, base == "reports" ? "report" : base);
  }
  d.write_config(inputs);
  create_topics(std::vector<std::string>(topics.begin(), topics.end()));

  // Offline: the renamed archive through the file source and sink.
  const std::string archive = d.dir + "/samples.jsonl", out = d.dir + "/flags.jsonl";
  {
    std::ofstream a(archive);
    for (const auto& r : samples) {
      std::string line;
      io::append_envelope(r, line);
      a << line << "\n";
    }
  }
  const int offline = spawn({VIGIL_DETECTOR_BIN, "--config", d.config_path, "--input", archive, "--output", out},
                            d.dir + "/offline.log");
  ASSERT_EQ(wait_exit(offline, 60s), 0) << read_file(d.dir + "/offline.log");
  auto flag_file = io::open_file_source({out});
  ASSERT_TRUE(flag_file.is_ok());
  std::vector<io::Record> offline_flags;
  while (!flag_file.value()->at_end()) ASSERT_TRUE(flag_file.value()->poll(offline_flags, 1000, 0ms).is_ok());
  ASSERT_GE(offline_flags.size(), 6u) << "the samples should produce flags of both categories";

  // Online: the same records through Kafka.
  produce(samples);
  const int pid = d.start_detector();
  std::multiset<std::string> want, got;
  for (const auto& f : offline_flags) want.insert(comparable(f));
  for (const std::string category : {"personal_data", "fraud_link", "scam"}) {
    std::size_t expected = 0;
    for (const auto& f : offline_flags) expected += f.topic == d.flags_prefix + category;
    ASSERT_GT(expected, 0u) << category << ": the samples should flag every category";
    for (auto& f : consume(d.flags_prefix + category, expected)) {
      f.partition = 0;
      got.insert(comparable(f));
    }
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 60s), 0) << d.log();
  EXPECT_EQ(got, want) << d.log();
}

}  // namespace
}  // namespace vigil::testing
