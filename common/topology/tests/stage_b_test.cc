#include "common/topology/stage_b.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "common/core/hash.h"
#include "common/detect/rule_pack.h"
#include "common/state/store.h"
#include "common/topology/pipeline.h"
#include "common/topology/stage_a.h"

namespace vigil::topology {
namespace {

constexpr TimestampMs kT0 = 1'711'929'600'000;  // 2024-04-01T00:00:00Z
constexpr TimestampMs kMin = 60'000;

const char* kPack = R"(rule_pack: state-test
version: "1"
categories: {fraud_link: {threshold: 50}, personal_data: {threshold: 50}}
state: {grace: 10m}
stateful_rules:
  - id: spread
    category: fraud_link
    entities: [domain]
    measure: distinct_authors
    threshold: 3
    window: 1h
    score: 80
    reason_en: "{count} accounts in {window}"
    reason_vi: "{count} tài khoản trong {window}"
  - id: new_lookalike
    category: fraud_link
    entities: [domain]
    when: {lookalike: true}
    measure: first_seen
    window: 24h
    score: 70
    reason_en: new
    reason_vi: mới
  - id: seller
    category: personal_data
    entities: [phone]
    when: {flagged: personal_data}
    measure: posts
    threshold: 2
    window: 7d
    score: 85
    reason_en: "{count} offers"
    reason_vi: "{count} bài"
)";

std::shared_ptr<const detect::RulePack> pack(const std::string& text = kPack) {
  const std::string path = ::testing::TempDir() + "vigil_stage_b_pack.yaml";
  std::ofstream(path) << text;
  auto r = detect::load_rule_pack(path);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? r.value() : nullptr;
}

io::Record observation(const std::string& type, const std::string& value, const std::string& author, TimestampMs t,
                       std::int64_t offset, std::vector<std::string> flagged = {}, const std::string& brand = "") {
  Observation o;
  o.type = type;
  o.value = value;
  o.brand = brand;
  o.event_id = "facebook:" + std::to_string(offset);
  o.platform = "facebook";
  o.kind = "post";
  o.author = author;
  o.event_time = t;
  o.flagged = std::move(flagged);
  o.topic = "raw.facebook";
  o.offset = offset;
  io::Record r;
  r.topic = "vigil.observations";
  r.partition = 2;
  r.offset = offset;
  r.key = observation_key(type, value);
  r.value.emplace();
  encode_observation(o, *r.value);
  return r;
}

// A changelog kept in memory: what finish_batch produced, readable by partition.
class MemoryChangelog final : public ChangelogReader {
 public:
  Result<std::int64_t> read(std::int32_t partition, std::int64_t from,
                            const std::function<bool(const io::Record&)>& fn) override {
    ++reads;
    auto& log = logs[partition];
    if (from > static_cast<std::int64_t>(log.size())) return Status(Code::kNotFound, "offset out of range");
    for (auto i = static_cast<std::size_t>(from); i < log.size(); ++i) {
      if (!fn(log[i])) return static_cast<std::int64_t>(i + 1);
    }
    return static_cast<std::int64_t>(log.size());
  }
  // Appends the batch's changelog records; returns the delivered positions.
  std::vector<io::TopicPartitionOffset> append(const std::vector<io::Record>& out) {
    std::map<std::int32_t, std::int64_t> next;
    for (const auto& r : out) {
      if (r.topic != "vigil.changelog") continue;
      logs[r.partition].push_back(r);
      next[r.partition] = static_cast<std::int64_t>(logs[r.partition].size());
    }
    std::vector<io::TopicPartitionOffset> delivered;
    for (const auto& [p, n] : next) delivered.push_back({"vigil.changelog", p, n});
    return delivered;
  }
  std::map<std::int32_t, std::vector<io::Record>> logs;
  int reads = 0;
};

class StageBTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::path(::testing::TempDir()) /
            ("vigil-stage-b-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(base_);
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::unique_ptr<state::Store> open(const std::string& name) {
    auto s = state::open_rocksdb_store({(base_ / name).string(), stage_b_stores(), 1 << 20});
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return std::move(s.value());
  }

  // Runs one batch through `b` and commits it; returns the non-changelog outputs.
  std::vector<io::Record> batch(StageB& b, const std::vector<io::Record>& in, MemoryChangelog* log = nullptr) {
    std::vector<io::Record> out;
    for (const auto& r : in) EXPECT_TRUE(b.process(r, out, stats_).is_ok());
    EXPECT_TRUE(b.finish_batch(out, stats_).is_ok());
    const auto delivered = log != nullptr ? log->append(out) : std::vector<io::TopicPartitionOffset>{};
    EXPECT_TRUE(b.committed(delivered).is_ok());
    std::vector<io::Record> flags;
    for (auto& r : out) {
      if (r.topic != "vigil.changelog") flags.push_back(std::move(r));
    }
    return flags;
  }

  static std::string flag_id(const io::Record& r) {
    for (const auto& h : r.headers) {
      if (h.key == "flag_id") return h.value.value_or("");
    }
    return "";
  }
  static bool is_update(const io::Record& r) { return r.value->find("\"kind\":\"update\"") != std::string::npos; }

  std::filesystem::path base_;
  Stats stats_;
  DetectorConfig config_ = default_detector_config();
};

TEST_F(StageBTest, DistinctAuthorsFlagOncePerWindowThenUpdateWhenTheCountDoubles) {
  auto store = open("db");
  StageB b(config_, pack(), *store, nullptr, [] { return TimestampMs{1}; });
  std::vector<io::Record> in;
  // Same author twice, then two more: the third distinct author crosses the threshold.
  for (const auto* author :
       {"facebook:a", "facebook:a", "facebook:b", "facebook:c", "facebook:d", "facebook:e", "facebook:f"})
    in.push_back(
        observation("domain", "scam.top", author, kT0 + in.size() * kMin, static_cast<std::int64_t>(in.size())));
  auto flags = batch(b, in);
  ASSERT_EQ(flags.size(), 2u);  // the flag at 3 authors, an update at 6 (doubled)
  EXPECT_EQ(flags[0].topic, "flags.fraud_link");
  EXPECT_EQ(flags[0].key, "scam.top");
  EXPECT_FALSE(is_update(flags[0]));
  EXPECT_NE(flags[0].value->find("\"reason_en\":\"3 accounts in 1h\""), std::string::npos) << *flags[0].value;
  EXPECT_NE(flags[0].value->find("\"window\":{\"start\":\"2024-04-01T00:00:00Z\",\"end\":\"2024-04-01T01:00:00Z\"}"),
            std::string::npos);
  EXPECT_NE(flags[0].value->find("\"source\":{\"platform\":\"facebook\",\"topic\":\"raw.facebook\""),
            std::string::npos);
  EXPECT_TRUE(is_update(flags[1]));
  EXPECT_EQ(flag_id(flags[1]), flag_id(flags[0]));
  EXPECT_EQ(stats_.flags, 1u);
  EXPECT_EQ(stats_.updates, 1u);

  // More of the same window in a later batch: no second flag; the next window flags anew.
  auto more = batch(b, {observation("domain", "scam.top", "facebook:g", kT0 + 30 * kMin, 10)});
  EXPECT_TRUE(more.empty());
  std::vector<io::Record> next;
  for (const auto* author : {"facebook:x", "facebook:y", "facebook:z"})
    next.push_back(observation("domain", "scam.top", author, kT0 + 61 * kMin, 20 + next.size()));
  auto second = batch(b, next);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(flag_id(second[0]), flag_id(flags[0]));
}

TEST_F(StageBTest, FlagIdsDependOnInputNotOnTheRun) {
  std::vector<io::Record> in;
  for (const auto* author : {"facebook:a", "facebook:b", "facebook:c"})
    in.push_back(
        observation("domain", "scam.top", author, kT0 + in.size() * kMin, static_cast<std::int64_t>(in.size())));
  auto s1 = open("one");
  auto s2 = open("two");
  StageB b1(config_, pack(), *s1, nullptr, [] { return TimestampMs{1}; });
  StageB b2(config_, pack(), *s2, nullptr, [] { return TimestampMs{999}; });
  auto f1 = batch(b1, in);
  auto f2 = batch(b2, in);
  ASSERT_EQ(f1.size(), 1u);
  ASSERT_EQ(f2.size(), 1u);
  EXPECT_EQ(flag_id(f1[0]), flag_id(f2[0]));
}

TEST_F(StageBTest, LateObservationsBeyondGraceAreCountedNotApplied) {
  auto store = open("db");
  StageB b(config_, pack(), *store, nullptr);
  // Stream time moves to T0+3h; the 1 h window of T0 closed at T0+1h10m.
  batch(b, {observation("domain", "scam.top", "facebook:a", kT0 + 180 * kMin, 0)});
  std::vector<io::Record> late;
  for (const auto* author : {"facebook:b", "facebook:c", "facebook:d"})
    late.push_back(observation("domain", "scam.top", author, kT0 + late.size(), 1 + late.size()));
  EXPECT_TRUE(batch(b, late).empty());
  EXPECT_EQ(stats_.late, 3u);
  // Within grace: counts.
  std::vector<io::Record> ok;
  for (const auto* author : {"facebook:b", "facebook:c", "facebook:d"})
    ok.push_back(observation("domain", "scam.top", author, kT0 + 175 * kMin, 10 + ok.size()));
  EXPECT_EQ(batch(b, ok).size(), 1u);
}

TEST_F(StageBTest, AbortedBatchLeavesNoTrace) {
  auto store = open("db");
  StageB b(config_, pack(), *store, nullptr);
  std::vector<io::Record> in;
  for (const auto* author : {"facebook:a", "facebook:b", "facebook:c"})
    in.push_back(observation("domain", "scam.top", author, kT0 + in.size(), static_cast<std::int64_t>(in.size())));
  std::vector<io::Record> out;
  for (const auto& r : in) ASSERT_TRUE(b.process(r, out, stats_).is_ok());
  ASSERT_TRUE(b.finish_batch(out, stats_).is_ok());
  b.aborted();
  // Read again after the abort: the same flag, as if the first attempt never happened.
  auto flags = batch(b, in);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_FALSE(is_update(flags[0]));
}

TEST_F(StageBTest, FirstSeenAndFlaggedConditions) {
  auto store = open("db");
  StageB b(config_, pack(), *store, nullptr);
  auto flags = batch(b, {
                            observation("domain", "vietcombamk.top", "facebook:a", kT0, 0, {}, "vietcombank.com.vn"),
                            observation("domain", "vietcombamk.top", "facebook:b", kT0 + 60 * kMin, 1, {},
                                        "vietcombank.com.vn"),                        // flagged once only
                            observation("domain", "plain.vn", "facebook:a", kT0, 2),  // not a lookalike
                            observation("phone", "+84912345678", "facebook:a", kT0, 3, {"personal_data"}),
                            observation("phone", "+84912345678", "facebook:b", kT0 + 1, 4),  // not flagged
                            observation("phone", "+84912345678", "facebook:c", kT0 + 2, 5, {"personal_data"}),
                        });
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_NE(flags[0].value->find("\"brand\":\"vietcombank.com.vn\""), std::string::npos);
  EXPECT_EQ(flags[1].topic, "flags.personal_data");
  EXPECT_EQ(flags[1].key, "09******78") << "phones are masked in keys";
  EXPECT_EQ(flags[1].value->find("+84912345678"), std::string::npos) << "and in values";
  EXPECT_NE(flags[1].value->find("\"reason_en\":\"2 offers\""), std::string::npos);
}

TEST_F(StageBTest, RestoreFromTheChangelogContinuesExactlyWhereTheOldWorkerStopped) {
  MemoryChangelog log;
  std::vector<io::Record> first, second;
  for (const auto* author : {"facebook:a", "facebook:b"})
    first.push_back(observation("domain", "scam.top", author, kT0 + first.size(), first.size()));
  second.push_back(observation("domain", "scam.top", "facebook:c", kT0 + 5, 2));

  {
    auto store = open("worker1");
    Restorer restorer(*store, log, stage_b_stores());
    StageB b(config_, pack(), *store, &restorer);
    EXPECT_TRUE(batch(b, first, &log).empty());
  }
  ASSERT_FALSE(log.logs[2].empty());
  // A second worker with an empty store takes the partition over: it restores first.
  auto store = open("worker2");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  auto flags = batch(b, second, &log);
  ASSERT_EQ(flags.size(), 1u) << "the two authors counted by worker 1 came back from the changelog";
  EXPECT_GT(stats_.restored, 0u);
  // Its checkpoint is past what it restored and wrote: a restart reads nothing old again.
  auto ckpt = store->checkpoint(2);
  ASSERT_TRUE(ckpt.is_ok() && ckpt.value());
  EXPECT_EQ(ckpt.value()->next_offset, static_cast<std::int64_t>(log.logs[2].size()));
}

TEST_F(StageBTest, BadObservationsAndChangelogRecordsAreDeadLettered) {
  MemoryChangelog log;
  io::Record junk;
  junk.topic = "vigil.changelog";
  junk.partition = 2;
  junk.key = "nostore";
  junk.value = "x";
  log.logs[2].push_back(junk);
  auto store = open("db");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  io::Record bad = observation("domain", "scam.top", "facebook:a", kT0, 0);
  bad.value = "{\"type\":\"domain\"";
  io::Record unknown = observation("spaceship", "x", "facebook:a", kT0, 1);
  auto out = batch(b, {bad, unknown, observation("domain", "ok.top", "facebook:a", kT0, 2)}, &log);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& r : out) EXPECT_EQ(r.topic, "vigil.dlq");
  EXPECT_EQ(stats_.dead_letters_by_reason["bad_observation"], 2u);
  EXPECT_EQ(stats_.dead_letters_by_reason["bad_changelog"], 1u);
  EXPECT_EQ(out[0].value, bad.value) << "original bytes kept";
}

TEST_F(StageBTest, AssignedPartitionsRestoreInTheBackgroundAndReportWhenDone) {
  MemoryChangelog log;
  std::vector<io::Record> first;
  for (const auto* author : {"facebook:a", "facebook:b"})
    first.push_back(observation("domain", "scam.top", author, kT0 + first.size(), first.size()));
  {
    auto store = open("worker1");
    Restorer restorer(*store, log, stage_b_stores());
    StageB b(config_, pack(), *store, &restorer);
    batch(b, first, &log);
  }
  const int reads_before = log.reads;
  auto store = open("worker2");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  b.assigned({2, 7});  // 7 has no changelog: restored at once, empty
  EXPECT_EQ(b.restoring(), 2u);
  std::vector<std::int32_t> finished;
  for (int i = 0; i < 200 && finished.size() < 2; ++i) {
    ASSERT_TRUE(b.take_restored(finished).is_ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::sort(finished.begin(), finished.end());
  EXPECT_EQ(finished, (std::vector<std::int32_t>{2, 7}));
  EXPECT_EQ(b.restoring(), 0u);
  // Partition 2 came back with its two authors: the third crosses the threshold.
  auto flags = batch(b, {observation("domain", "scam.top", "facebook:c", kT0 + 5, 2)}, &log);
  EXPECT_EQ(flags.size(), 1u);
  EXPECT_EQ(log.reads, reads_before + 2) << "one read each of 2 and 7; none again when 2's records came";
  // Revoked while restoring: forgotten; not reported as finished.
  b.assigned({9});
  b.revoked({9});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  finished.clear();
  ASSERT_TRUE(b.take_restored(finished).is_ok());
  EXPECT_TRUE(finished.empty());
  EXPECT_EQ(b.restoring(), 0u);
}

// A changelog whose reads of one partition block until released, to catch a restore running.
class BlockingChangelog final : public ChangelogReader {
 public:
  Result<std::int64_t> read(std::int32_t, std::int64_t, const std::function<bool(const io::Record&)>& fn) override {
    std::unique_lock lock(mu);
    ++reads;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
    io::Record r;
    r.key = "meta/k";  // one record, so the restore sees its cancellation
    r.value = state::encode_stored("v", 0);
    lock.unlock();
    fn(r);
    return 1;
  }
  std::mutex mu;
  std::condition_variable cv;
  int reads = 0;
  bool released = false;
};

TEST_F(StageBTest, PartitionRevokedAndGivenBackWhileRestoringIsRestoredAgain) {
  BlockingChangelog log;
  auto store = open("worker");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  b.assigned({4});
  {
    std::unique_lock lock(log.mu);
    ASSERT_TRUE(log.cv.wait_for(lock, std::chrono::seconds(10), [&] { return log.reads == 1; }));
  }
  // Cooperative rebalancing took 4 away and gave it back while its restore was running.
  b.revoked({4});
  b.assigned({4});
  {
    std::lock_guard lock(log.mu);
    log.released = true;
  }
  log.cv.notify_all();
  std::vector<std::int32_t> finished;
  for (int i = 0; i < 1000 && finished.empty(); ++i) {
    ASSERT_TRUE(b.take_restored(finished).is_ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(finished, (std::vector<std::int32_t>{4})) << "the cancelled restore's partition was never restored";
  EXPECT_EQ(b.restoring(), 0u);
  std::lock_guard lock(log.mu);
  EXPECT_EQ(log.reads, 2) << "read again after the cancelled read";
}

TEST_F(StageBTest, ExpiredKeysGetChangelogTombstones) {
  MemoryChangelog log;
  auto store = open("db");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  batch(b, {observation("domain", "scam.top", "facebook:a", kT0, 0)}, &log);
  // Three hours later (grace 10 min): the 1 h window of scam.top has closed.
  batch(b, {observation("domain", "other.top", "facebook:a", kT0 + 180 * kMin, 1)}, &log);
  bool tombstone = false;
  for (const auto& r : log.logs[2]) tombstone |= r.key == "windows/spread|domain:scam.top" && !r.value;
  EXPECT_TRUE(tombstone);
  auto gone = store->get("windows", 2, "spread|domain:scam.top");
  ASSERT_TRUE(gone.is_ok());
  EXPECT_FALSE(gone.value());
  // Alive keys stay: first-seen times are kept for 30 days.
  auto kept = store->get("first_seen", 2, "domain:scam.top");
  ASSERT_TRUE(kept.is_ok());
  EXPECT_TRUE(kept.value());
}

TEST(StatefulRulePack, RejectsBadRulesWithTheirName) {
  const std::pair<std::string, std::string> cases[] = {
      {"measure: sometimes", "unknown measure"},
      {"measure: posts\n    window: 1h\n    advance: 25m", "'advance' must divide 'window'"},
      {"measure: posts\n    window: soon", "must be a duration"},
      {"measure: first_seen\n    threshold: 2\n    window: 1h", "has no threshold"},
  };
  for (const auto& [body, message] : cases) {
    const std::string text = std::string("rule_pack: t\nversion: \"1\"\ncategories: {fraud_link: {threshold: 50}}\n") +
                             "stateful_rules:\n  - id: r1\n    category: fraud_link\n    entities: [domain]\n" +
                             "    score: 50\n    reason_en: a\n    reason_vi: b\n    " + body +
                             (body.find("window") == std::string::npos ? "\n    window: 1h\n" : "\n");
    const std::string path = ::testing::TempDir() + "vigil_bad_stateful.yaml";
    std::ofstream(path) << text;
    auto r = detect::load_rule_pack(path);
    ASSERT_FALSE(r.is_ok()) << body;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("stateful_rules.r1"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace vigil::topology

namespace vigil::topology {
namespace {

// A canonical post, as raw.canonical carries it, at `t` (default: a minute per offset).
io::Record post(std::int64_t offset, const std::string& author, const std::string& text, TimestampMs t = 0) {
  if (t == 0) t = kT0 + offset * kMin;
  io::Record r;
  r.topic = "raw.canonical";
  r.partition = 0;
  r.offset = offset;
  r.timestamp = t;
  r.value = R"({"event_id":"forum:x:)" + std::to_string(offset) + R"(","platform":"forum","kind":"post","author":")" +
            author + R"(","text":")" + text + R"(","event_time":)" + std::to_string(t) + "}";
  return r;
}

// Posts at `t` whose authors' accounts fall on each of `partitions` partitions: every
// partition's event time reaches `t`, so the ring coordinator applies what is older than
// `t` minus the grace period.
std::vector<io::Record> tick(std::int64_t offset, TimestampMs t, int partitions = 3) {
  std::vector<io::Record> out;
  std::set<int> covered;
  for (int i = 0; static_cast<int>(covered.size()) < partitions; ++i) {
    const std::string author = "forum:x:tick" + std::to_string(i);
    if (!covered.insert(kafka_partition_for_key("account:" + author, partitions)).second) continue;
    out.push_back(post(offset + i, author, "chào buổi sáng", t));
  }
  return out;
}

std::shared_ptr<const detect::RulePack> core_pack() {
  auto r = detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.value();
}

std::vector<io::Record> ring_flags(const std::vector<io::Record>& out) {
  std::vector<io::Record> rings;
  for (const auto& r : out) {
    if (r.topic == "flags.fraud_ring") rings.push_back(r);
  }
  return rings;
}

TEST_F(StageBTest, EntitiesUsedTogetherFormOneRingFlaggedOnceThenUpdated) {
  config_.state.partitions = 3;
  auto store = open("db");
  const auto pack = core_pack();
  StageA a(config_, pack, [] { return TimestampMs{1}; });
  StageB b(config_, pack, *store, nullptr, [] { return TimestampMs{1}; });
  Pipeline pipeline(a, &b, config_.state.observations_topic, 3);
  std::vector<io::Record> in = {
      // A lookalike link with a phone: flagged, three members (domain, phone, author).
      post(0, "forum:x:alice", "Tài khoản bị khóa, xác thực tại vietcombank-xacthuc.top ngay, hỗ trợ 0912345678"),
      // The same phone with a bank account and another author: five members, one ring.
      post(1, "forum:x:bob", "Liên hệ 0912345678, chuyển khoản stk 190312345678 Techcombank"),
      // facebook.com is a hub: it must not pull this unrelated post into the ring.
      post(2, "forum:x:carol", "Xem trang facebook.com/abc và gọi 0987654321"),
      post(3, "forum:x:dave", "Đăng ký tại facebook.com/xyz nhé"),
  };
  std::vector<io::Record> out;
  for (const auto& r : in) ASSERT_TRUE(pipeline.process(r, out, stats_).is_ok());
  EXPECT_TRUE(ring_flags(out).empty()) << "applied before every partition's event time passed the links";
  // Two hours later on every partition (the pack's grace is 1 h): the links are applied.
  for (const auto& r : tick(100, kT0 + 120 * kMin)) ASSERT_TRUE(pipeline.process(r, out, stats_).is_ok());
  auto rings = ring_flags(out);
  ASSERT_EQ(rings.size(), 1u);
  const std::string& v = *rings[0].value;
  EXPECT_FALSE(is_update(rings[0]));
  // Flagged once the second post's links made five members.
  EXPECT_NE(v.find("\"members\":5"), std::string::npos) << v;
  EXPECT_NE(v.find("\"event_id\":\"forum:x:1\""), std::string::npos) << v;
  EXPECT_EQ(v.find("0912345678"), std::string::npos) << "members are masked: " << v;
  EXPECT_NE(v.find("vietcombank-xacthuc.top"), std::string::npos) << v;
  EXPECT_EQ(v.find("carol"), std::string::npos) << "no link through the hub: " << v;
  EXPECT_EQ(rings[0].key, flag_id(rings[0]));

  // More members linked to the ring: once it doubled to 10, an update of the same ring.
  out.clear();
  ASSERT_TRUE(pipeline
                  .process(post(200, "forum:x:erin",
                                "stk 190398765432 Techcombank, zalo 0933333333, 0944444444, telegram @ringboss, "
                                "gọi 0912345678",
                                kT0 + 130 * kMin),
                           out, stats_)
                  .is_ok());
  for (const auto& r : tick(300, kT0 + 250 * kMin)) ASSERT_TRUE(pipeline.process(r, out, stats_).is_ok());
  rings = ring_flags(out);
  ASSERT_EQ(rings.size(), 1u);
  EXPECT_TRUE(is_update(rings[0]));
  EXPECT_NE(rings[0].value->find("\"members\":10"), std::string::npos) << *rings[0].value;
  EXPECT_EQ(flag_id(rings[0]), rings[0].key);
}

// Two rings that grow at the same time and then join: whatever order the posts arrive in
// (within the grace period), the same ring flags with the same ids. Min-label propagation,
// which decided in arrival order, failed this.
TEST_F(StageBTest, RingFlagsDoNotDependOnArrivalOrder) {
  config_.state.partitions = 3;
  const auto pack = core_pack();
  const std::vector<io::Record> posts = {
      post(0, "forum:x:alice", "Xác thực tài khoản tại vietcombank-xacthuc.top, hỗ trợ 0912345678", kT0),
      post(1, "forum:x:bob", "Liên hệ 0912345678, stk 190312345678 Techcombank", kT0 + kMin),
      post(2, "forum:x:carol", "Nhận quà tại momo-tri-an.top, gọi 0923456789", kT0 + 2 * kMin),
      post(3, "forum:x:dave", "Gọi 0923456789, stk 190387654321 Techcombank", kT0 + 3 * kMin),
      post(4, "forum:x:erin", "Hai số 0912345678 và 0923456789 cùng một chủ", kT0 + 4 * kMin),
      post(5, "forum:x:frank", "Thêm: 0923456789, 0934567890, stk 190311112222 Techcombank", kT0 + 5 * kMin),
  };
  const auto run = [&](const std::string& name, std::vector<io::Record> order) {
    auto store = open(name);
    StageA a(config_, pack, [] { return TimestampMs{1}; });
    StageB b(config_, pack, *store, nullptr, [] { return TimestampMs{1}; });
    Pipeline pipeline(a, &b, config_.state.observations_topic, 3);
    std::vector<io::Record> out;
    for (const auto& r : order) EXPECT_TRUE(pipeline.process(r, out, stats_).is_ok());
    for (const auto& r : tick(100, kT0 + 120 * kMin)) EXPECT_TRUE(pipeline.process(r, out, stats_).is_ok());
    std::vector<std::string> seen;
    for (const auto& r : ring_flags(out)) {
      static const std::regex members(R"re("members":([0-9]+))re");
      std::smatch m;
      std::regex_search(*r.value, m, members);
      seen.push_back(flag_id(r) + (is_update(r) ? " update " : " flag ") + m[1].str());
    }
    return seen;
  };
  const auto forward = run("forward", posts);
  const auto backward = run("backward", {posts.rbegin(), posts.rend()});
  auto shuffled = posts;
  std::swap(shuffled[0], shuffled[3]);
  std::swap(shuffled[1], shuffled[5]);
  const auto mixed = run("mixed", shuffled);
  ASSERT_FALSE(forward.empty());
  EXPECT_EQ(forward.front().find(" flag "), 19u) << forward.front();
  EXPECT_GE(forward.size(), 2u) << "the rings joined: an update";
  for (const auto& f : forward) std::fprintf(stderr, "ring: %s\n", f.c_str());
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward, mixed);
}

// Found by bench/e2e: online, input partitions read far apart in event time made stage B see
// observations many hours behind its stream time. The first-seen suppression entry expires at
// the end of the rule's window plus the grace and the online sweep removes it; a late sighting
// within the window then flagged the entity again, with the same flag_id, once per batch. It is
// late now, as for windows.
TEST_F(StageBTest, FirstSeenFlagsOnceAlsoForLateObservationsAfterTheSweep) {
  MemoryChangelog log;
  auto store = open("db");
  Restorer restorer(*store, log, stage_b_stores());
  StageB b(config_, pack(), *store, &restorer);
  const auto sighting = [&](TimestampMs t, std::int64_t offset) {
    return observation("domain", "vietcombamk.top", "facebook:a", t, offset, {}, "vietcombank.com.vn");
  };
  std::size_t flags = batch(b, {sighting(kT0, 0)}, &log).size();
  EXPECT_EQ(flags, 1u);
  // A day and more later (stream time passes the window's end plus the grace; the sweep runs).
  flags += batch(b, {sighting(kT0 + 26 * 60 * kMin, 1)}, &log).size();
  // Then a sighting from the first hour, read late.
  flags += batch(b, {sighting(kT0 + 60 * kMin, 2)}, &log).size();
  EXPECT_EQ(flags, 1u);
}

}  // namespace
}  // namespace vigil::topology
