#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <sstream>

#include "common/detect/rule_pack.h"
#include "common/topology/blocklist_topic.h"
#include "common/topology/probe.h"
#include "common/topology/runner.h"
#include "common/topology/stage_a.h"

namespace vigil::topology {
namespace {

std::shared_ptr<const detect::RulePack> core_pack() {
  auto r = detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.value();
}

io::Record raw(std::string topic, std::int64_t offset, std::optional<std::string> value) {
  io::Record r;
  r.topic = std::move(topic);
  r.partition = 0;
  r.offset = offset;
  r.timestamp = 1711930340000;
  r.key = "k" + std::to_string(offset);
  r.value = std::move(value);
  r.headers = {{"origin", std::string("test")}};
  return r;
}

// Stage A alone: these tests count its flags and dead letters only.
DetectorConfig stateless() {
  auto c = default_detector_config();
  c.state.enabled = false;
  return c;
}

const std::string kSelling =
    R"({"update_id":1,"message":{"message_id":7,"from":{"id":5012345612},"chat":{"id":-100},"date":1711930340,)"
    R"("text":"Bán data khách hàng, ib Zalo 0912345678"}})";
const std::string kLookalike =
    R"({"id":"1_2","message":"Tài khoản bị tạm khóa, xác thực tại vietcombamk.com.vn/xac-thuc","created_time":"2024-04-01T00:00:00+0000"})";

std::string header(const io::Record& r, std::string_view key) {
  for (const auto& h : r.headers) {
    if (h.key == key) return h.value.value_or("");
  }
  return "<none>";
}

TEST(StageA, FlagsGoToCategoryTopicsWithHeaders) {
  StageA stage(stateless(), core_pack(), [] { return TimestampMs{5}; });
  std::vector<io::Record> out;
  Stats stats;
  ASSERT_TRUE(stage.process(raw("raw.telegram", 0, kSelling), out, stats).is_ok());
  ASSERT_TRUE(stage.process(raw("raw.facebook", 1, kLookalike), out, stats).is_ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].topic, "flags.personal_data");
  EXPECT_EQ(out[0].key, "telegram:50******12");
  EXPECT_EQ(header(out[0], "category"), "personal_data");
  EXPECT_EQ(header(out[0], "severity"), "high");
  EXPECT_EQ(out[0].timestamp, 5);  // detected_at, so that retention does not drop replayed flags
  EXPECT_EQ(out[1].topic, "flags.fraud_link");
  EXPECT_EQ(out[1].key, "vietcombamk.com.vn");
  EXPECT_NE(out[1].value->find("\"topic\":\"raw.facebook\""), std::string::npos);
  EXPECT_EQ(stats.flags, 2u);
  EXPECT_EQ(stats.flags_by_category["fraud_link"], 1u);
}

TEST(StageA, MalformedRecordsAreDeadLetteredWithOriginalBytes) {
  StageA stage(stateless(), core_pack());
  std::vector<io::Record> out;
  Stats stats;
  const std::string broken = "{\"update_id\":1,\"message\":{";
  ASSERT_TRUE(stage.process(raw("raw.telegram", 3, broken), out, stats).is_ok());
  ASSERT_TRUE(stage.process(raw("raw.unknown", 4, "{}"), out, stats).is_ok());
  ASSERT_TRUE(stage.process(raw("raw.zalo", 5, std::nullopt), out, stats).is_ok());
  io::Record bad_line = raw("file:x.jsonl", 9, "not an envelope");
  bad_line.source_error = "bad archive line: ...";
  ASSERT_TRUE(stage.process(bad_line, out, stats).is_ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].topic, "vigil.dlq");
  EXPECT_EQ(out[0].value, broken);
  EXPECT_EQ(out[0].key, "k3");
  EXPECT_EQ(header(out[0], "vigil.dlq.reason"), "invalid_json");
  EXPECT_EQ(header(out[0], "vigil.source.topic"), "raw.telegram");
  EXPECT_EQ(header(out[0], "vigil.source.offset"), "3");
  EXPECT_EQ(header(out[0], "origin"), "test");
  EXPECT_EQ(header(out[1], "vigil.dlq.reason"), "no_adapter");
  EXPECT_EQ(header(out[2], "vigil.dlq.reason"), "missing_value");
  EXPECT_EQ(header(out[3], "vigil.dlq.reason"), "bad_envelope");
  EXPECT_EQ(stats.dead_letters(), 4u);
}

// In-memory source and sink to drive the runner's batching and abort path.
class VectorSource final : public io::Source {
 public:
  explicit VectorSource(std::vector<io::Record> records) : records_(std::move(records)) {}
  Status poll(std::vector<io::Record>& out, std::size_t max, std::chrono::milliseconds) override {
    for (std::size_t n = 0; n < max && pos_ < records_.size(); ++n) out.push_back(records_[pos_++]);
    return Status::ok();
  }
  bool at_end() const override { return pos_ >= records_.size(); }
  Status commit(const std::vector<io::TopicPartitionOffset>& next) override {
    committed = next;
    return Status::ok();
  }
  Status seek(const std::vector<io::TopicPartitionOffset>& positions) override {
    pos_ = static_cast<std::size_t>(positions.front().offset);
    ++seeks;
    return Status::ok();
  }
  std::vector<io::TopicPartitionOffset> committed;
  int seeks = 0;

 private:
  std::vector<io::Record> records_;
  std::size_t pos_ = 0;
};

class FlakySink final : public io::Sink {
 public:
  Status begin() override {
    pending.clear();
    return Status::ok();
  }
  Status send(const io::Record& r) override {
    pending.push_back(r);
    return Status::ok();
  }
  Status commit(io::Source& source, const std::vector<io::TopicPartitionOffset>& next) override {
    if (fail_next_commits > 0) {
      --fail_next_commits;
      return Status(Code::kUnavailable, "injected abortable error");
    }
    committed.insert(committed.end(), pending.begin(), pending.end());
    return source.commit(next);
  }
  Status abort() override {
    pending.clear();
    ++aborts;
    return Status::ok();
  }
  std::vector<io::Record> pending, committed;
  int fail_next_commits = 0;
  int aborts = 0;
};

TEST(Runner, AbortedBatchIsReadAgainWithoutDuplicates) {
  std::vector<io::Record> records;
  for (int i = 0; i < 6; ++i) records.push_back(raw("raw.telegram", i, kSelling));
  VectorSource source(records);
  FlakySink sink;
  sink.fail_next_commits = 1;
  StageA stage(stateless(), core_pack());
  Runner runner(source, sink, stage, RunnerOptions{4, std::chrono::milliseconds(0), 5, nullptr});
  std::atomic<bool> stop{false};
  ASSERT_TRUE(runner.run(stop).is_ok());
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_EQ(source.seeks, 1);
  EXPECT_EQ(sink.committed.size(), 6u);  // one flag per record, none twice
  EXPECT_EQ(runner.stats().records, 6u);
  EXPECT_EQ(source.committed, (std::vector<io::TopicPartitionOffset>{{"raw.telegram", 0, 6}}));
}

// The bundled pack under another version, to tell which pack judged a record.
std::shared_ptr<const detect::RulePack> core_pack_as(const std::string& version) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const auto at = text.find("\nversion: ");
  EXPECT_NE(at, std::string::npos);
  text.replace(at + 1, text.find('\n', at + 1) - at - 1, "version: " + version);
  const std::string path = ::testing::TempDir() + "vigil_topology_pack_" + version + ".yaml";
  std::ofstream(path) << text;
  auto r = detect::load_rule_pack(path);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.value();
}

TEST(Runner, RulePackSwappedBetweenBatchesJudgesWholeBatchesAndLosesNothing) {
  std::vector<io::Record> records;
  for (int i = 0; i < 8; ++i) records.push_back(raw("raw.telegram", i, kSelling));
  VectorSource source(records);
  FlakySink sink;
  StageA stage(stateless(), core_pack_as("1.0.0"));
  auto next = core_pack_as("2.0.0");
  int calls = 0;
  RunnerOptions options{4, std::chrono::milliseconds(0), 5, nullptr};
  options.between_batches = [&]() -> Status {
    if (++calls == 2) stage.set_rule_pack(next);  // after the first batch of 4
    return Status::ok();
  };
  Runner runner(source, sink, stage, options);
  std::atomic<bool> stop{false};
  ASSERT_TRUE(runner.run(stop).is_ok());
  ASSERT_EQ(sink.committed.size(), 8u);  // one flag per record: none dropped, none twice
  for (std::size_t i = 0; i < sink.committed.size(); ++i) {
    const std::string want = i < 4 ? "\"rule_pack\":\"vn-core@1.0.0\"" : "\"rule_pack\":\"vn-core@2.0.0\"";
    EXPECT_NE(sink.committed[i].value->find(want), std::string::npos) << i << ": " << *sink.committed[i].value;
  }
}

TEST(RunnerProbe, ReportsTheRulePackInUseAndRejectedReloads) {
  prometheus::Registry registry;
  RunnerProbe probe(registry, std::make_shared<metrics::Health>(), "vn-core@1");
  probe.on_rule_pack_loaded("vn-core@2");
  probe.on_rule_pack_rejected();
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("vigil_rule_pack_info{version=\"vn-core@2\"} 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("vn-core@1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_rule_pack_reload_failures_total 1"), std::string::npos) << text;
}

TEST(RunnerProbe, RevokedPartitionsStopReportingLag) {
  prometheus::Registry registry;
  RunnerProbe probe(registry, std::make_shared<metrics::Health>(), "vn-core@test");
  probe.on_consumer_lag("raw.zalo", 0, 7);
  probe.on_consumer_lag("raw.zalo", 1, 9);
  probe.on_rebalance(2);
  probe.on_revoked("raw.zalo", 1);
  probe.on_revoked("raw.zalo", 5);  // never reported: nothing to remove
  probe.on_rebalance(1);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("vigil_consumer_lag{partition=\"0\",topic=\"raw.zalo\"} 7"), std::string::npos) << text;
  EXPECT_EQ(text.find("partition=\"1\""), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_assigned_partitions 1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_rebalances_total 2"), std::string::npos) << text;
}

TEST(RunnerProbe, CountsCommittedWorkOnlyAndReportsHealth) {
  std::vector<io::Record> records;
  for (int i = 0; i < 5; ++i) records.push_back(raw("raw.telegram", i, kSelling));
  records.push_back(raw("raw.telegram", 5, "{broken"));
  VectorSource source(records);
  FlakySink sink;
  sink.fail_next_commits = 1;
  StageA stage(stateless(), core_pack());
  prometheus::Registry registry;
  auto health = std::make_shared<metrics::Health>();
  RunnerProbe probe(registry, health, "vn-core@test");
  Runner runner(source, sink, stage, RunnerOptions{4, std::chrono::milliseconds(0), 5, nullptr}, &probe);
  std::atomic<bool> stop{false};
  ASSERT_TRUE(runner.run(stop).is_ok());
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  ASSERT_FALSE(sink.committed.empty());
  std::string severity;
  for (const auto& h : sink.committed[0].headers) {
    if (h.key == "severity") severity = h.value.value_or("");
  }
  const std::string flags_line = "vigil_flags_total{category=\"personal_data\",severity=\"" + severity + "\"} 5";
  // The aborted first batch is not counted; its records are, once, when read again.
  for (const std::string& line :
       {std::string("vigil_records_in_total{topic=\"raw.telegram\"} 6"), flags_line,
        std::string("vigil_rule_hits_total{rule=\"text.pd.trade_offer\"} 5"),
        std::string("vigil_dead_letters_total{reason=\"invalid_json\"} 1"),
        std::string("vigil_batches_total{result=\"aborted\"} 1"),
        std::string("vigil_batches_total{result=\"committed\"} 2"),
        std::string("vigil_rule_pack_info{version=\"vn-core@test\"} 1"), std::string("vigil_ready 1"),
        std::string("vigil_batch_seconds_count 2"), std::string("vigil_transaction_commit_seconds_count 2")}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_TRUE(health->ready());
  EXPECT_TRUE(health->alive(std::chrono::seconds(10)));
}

io::Record intel(std::int64_t offset, std::optional<std::string> key, std::optional<std::string> value) {
  io::Record r;
  r.topic = "intel.blocklist";
  r.partition = 0;
  r.offset = offset;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

const std::string kListedLink =
    R"({"id":"1_3","message":"Đơn hàng đang chờ giao, xem tại https://track.giaohang-nhanh.example/123",)"
    R"("created_time":"2024-04-01T00:00:00+0000"})";

TEST(BlocklistTopic, AppliesEntriesAndTombstonesAndFlagsFollowBetweenBatches) {
  auto blocklist = std::make_shared<detect::Blocklist>();
  BlocklistTopic topic(*blocklist);
  StageA stage(stateless(), core_pack());
  stage.set_blocklist(blocklist);
  std::vector<io::Record> out;
  Stats stats;
  ASSERT_TRUE(stage.process(raw("raw.facebook", 0, kListedLink), out, stats).is_ok());
  EXPECT_TRUE(out.empty());

  VectorSource source({intel(0, "giaohang-nhanh.example", R"({"feed":"police-tips","reason":"SMS wave"})"),
                       intel(1, "not a domain", "x"), intel(2, "momo.vn", "police-tips"),
                       intel(3, std::nullopt, "police-tips")});
  const auto pack = core_pack();
  auto counts = topic.poll(source, std::chrono::milliseconds(0), 100, pack.get());
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts.value().records, 4u);
  EXPECT_EQ(counts.value().changed, 2u);
  EXPECT_EQ(counts.value().malformed, 2u);
  ASSERT_EQ(counts.value().notes.size(), 3u);
  EXPECT_NE(counts.value().notes[0].find("intel.blocklist/0@1: key 'not a domain'"), std::string::npos)
      << counts.value().notes[0];
  EXPECT_NE(counts.value().notes[1].find("momo.vn is an official domain of brand momo"), std::string::npos)
      << counts.value().notes[1];
  EXPECT_TRUE(topic.reached({{"intel.blocklist", 0, 4}}));
  EXPECT_FALSE(topic.reached({{"intel.blocklist", 0, 6}}));
  EXPECT_FALSE(topic.reached({{"intel.blocklist", 0, 5}}));
  EXPECT_TRUE(topic.reached({{"intel.blocklist", 0, 5}}, 1));   // a commit marker at offset 4
  EXPECT_FALSE(topic.reached({{"intel.blocklist", 1, 1}}, 1));  // nothing read there yet

  ASSERT_TRUE(stage.process(raw("raw.facebook", 1, kListedLink), out, stats).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "giaohang-nhanh.example");
  EXPECT_EQ(header(out[0], "severity"), "high");
  EXPECT_NE(out[0].value->find("is on the known-bad list 'police-tips': SMS wave"), std::string::npos) << *out[0].value;
  EXPECT_EQ(stats.blocklist_hits["police-tips"], 1u);
  EXPECT_EQ(stats.rule_hits["intel.blocklist"], 1u);

  // A tombstone removes the entry; a reloaded rule pack keeps the blocklist.
  VectorSource removal({intel(4, "giaohang-nhanh.example", std::nullopt)});
  ASSERT_TRUE(topic.poll(removal, std::chrono::milliseconds(0), 100, pack.get()).is_ok());
  stage.set_rule_pack(core_pack());
  out.clear();
  ASSERT_TRUE(stage.process(raw("raw.facebook", 2, kListedLink), out, stats).is_ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(blocklist->apply({"giaohang-nhanh.example", false, "again", ""}));
  ASSERT_TRUE(stage.process(raw("raw.facebook", 3, kListedLink), out, stats).is_ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(RunnerProbe, ReportsBlocklistEntriesHitsAndFailures) {
  prometheus::Registry registry;
  RunnerProbe probe(registry, std::make_shared<metrics::Health>(), "vn-core@test");
  const auto files =
      detect::FeedSet::build({{detect::FeedSpec{"phish-vn", "/f", detect::FeedFormat::kAuto},
                               detect::parse_feed("a.example\nb.example\nnot a domain\n", detect::FeedFormat::kAuto)}});
  probe.on_blocklist_files(*files);
  probe.on_blocklist_topic({{"police-tips", 3}});
  probe.on_blocklist_topic({});
  probe.on_blocklist_rejected();
  probe.on_blocklist_malformed_records(2);
  probe.on_blocklist_topic_up(true);
  Stats batch;
  batch.blocklist_hits["phish-vn"] = 4;
  probe.on_commit(batch, 0.01, 0.001);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  for (const std::string line :
       {"vigil_blocklist_entries{feed=\"phish-vn\",source=\"file\"} 2",
        "vigil_blocklist_entries{feed=\"police-tips\",source=\"topic\"} 0",
        "vigil_blocklist_malformed_lines{feed=\"phish-vn\"} 1", "vigil_blocklist_hits_total{feed=\"phish-vn\"} 4",
        "vigil_blocklist_reload_failures_total 1", "vigil_blocklist_malformed_records_total 2",
        "vigil_blocklist_topic_up 1"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

TEST(Runner, PersistentFailureEndsTheRunWithTheError) {
  VectorSource source({raw("raw.telegram", 0, kSelling)});
  FlakySink sink;
  sink.fail_next_commits = 100;
  StageA stage(stateless(), core_pack());
  Runner runner(source, sink, stage, RunnerOptions{4, std::chrono::milliseconds(0), 3, nullptr});
  std::atomic<bool> stop{false};
  const Status st = runner.run(stop);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(sink.committed.empty());
  EXPECT_EQ(runner.stats().records, 0u);
}

}  // namespace
}  // namespace vigil::topology
