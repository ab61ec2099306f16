#include "services/replay/replay.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/io/envelope.h"

namespace vigil::replay {
namespace {

class FakeProducer final : public io::Producer {
 public:
  Status send(const io::Record& record) override {
    sent.push_back(record);
    ++counts_.queued;
    if (fail_topic == record.topic) {
      ++counts_.failed;
      if (counts_.first_error.empty()) counts_.first_error = record.topic + ": Broker: Unknown topic";
    } else {
      ++counts_.delivered;
    }
    return Status::ok();
  }
  void poll() override {}
  Status flush(std::chrono::milliseconds) override { return Status::ok(); }
  const io::ProducerCounts& counts() const override { return counts_; }

  std::vector<io::Record> sent;
  std::string fail_topic;

 private:
  io::ProducerCounts counts_;
};

// Time that moves only when the replayer sleeps; records every sleep target.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return now_; }
  void sleep_until(std::chrono::steady_clock::time_point t) override {
    if (t > now_) now_ = t;
    sleeps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now_ - origin_).count());
  }
  TimestampMs wall_ms() override { return 1'800'000'000'000; }
  std::vector<std::int64_t> sleeps;

 private:
  std::chrono::steady_clock::time_point origin_{std::chrono::seconds(1000)};
  std::chrono::steady_clock::time_point now_{origin_};
};

io::Record make(const std::string& topic, int partition, std::int64_t offset, TimestampMs ts, std::string key,
                std::string value) {
  io::Record r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp = ts;
  r.key = std::move(key);
  r.value = std::move(value);
  r.headers = {{"h1", "v1"}, {"nullh", std::nullopt}};
  return r;
}

std::string write_file(const std::vector<std::string>& lines) {
  char name[] = "/tmp/vigil-replay-test-XXXXXX";
  const int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream out(name);
  for (const auto& l : lines) out << l << "\n";
  return name;
}

std::string envelope(const io::Record& r) {
  std::string out;
  io::append_envelope(r, out);
  return out;
}

struct Run {
  ReplayStats stats;
  Status status;
};

Run run(const ReplayOptions& options, io::Producer* producer, Clock& clock) {
  std::atomic<bool> stop{false};
  Run r;
  r.status = run_replay(options, producer, clock, stop, nullptr, r.stats);
  return r;
}

TEST(Replay, SendsEnvelopesAsArchivedKeepingKeyHeadersTimestampAndPartition) {
  const auto a = make("raw.telegram", 2, 10, 1711930340000, "k1", "{\"x\":1}");
  const auto b = make("raw.telegram", 0, 11, 1711930341000, "k2", std::string("\xff\x00\x01", 3));
  const auto path = write_file({envelope(a), "", envelope(b)});
  ReplayOptions options;
  options.inputs = {path};
  options.partition_by = PartitionBy::kOriginal;
  FakeProducer producer;
  FakeClock clock;
  const auto r = run(options, &producer, clock);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(producer.sent.size(), 2u);
  EXPECT_EQ(producer.sent[0].key, a.key);
  EXPECT_EQ(producer.sent[0].value, a.value);
  EXPECT_EQ(producer.sent[0].partition, 2);
  EXPECT_EQ(producer.sent[0].timestamp, a.timestamp);
  ASSERT_EQ(producer.sent[0].headers.size(), 2u);
  EXPECT_EQ(producer.sent[0].headers[1].key, "nullh");
  EXPECT_FALSE(producer.sent[0].headers[1].value.has_value());
  EXPECT_EQ(producer.sent[1].value, b.value);  // binary payload survives (base64 in the archive)
  EXPECT_EQ(r.stats.per_topic.at("raw.telegram"), 2u);
  EXPECT_EQ(r.stats.delivered, 2u);
  EXPECT_TRUE(clock.sleeps.empty());  // speed 0, rate 0: no waiting
  std::remove(path.c_str());
}

TEST(Replay, PartitionByKeyLeavesPlacementToThePartitioner) {
  const auto path = write_file({envelope(make("t", 3, 0, 1000, "k", "v"))});
  ReplayOptions options;
  options.inputs = {path};
  FakeProducer producer;
  FakeClock clock;
  ASSERT_TRUE(run(options, &producer, clock).status.is_ok());
  ASSERT_EQ(producer.sent.size(), 1u);
  EXPECT_EQ(producer.sent[0].partition, -1);
  std::remove(path.c_str());
}

TEST(Replay, TopicMapTopicAndPlainLines) {
  const auto path = write_file({envelope(make("raw.zalo", 0, 0, 1000, "k", "v")), "{\"plain\":true}"});
  FakeClock clock;
  {
    ReplayOptions options;
    options.inputs = {path};
    options.topic_map = {{"raw.zalo", "replay.zalo"}};
    FakeProducer producer;
    const auto r = run(options, &producer, clock);
    ASSERT_TRUE(r.status.is_ok());
    ASSERT_EQ(producer.sent.size(), 1u);
    EXPECT_EQ(producer.sent[0].topic, "replay.zalo");
    ASSERT_EQ(r.stats.bad_lines, 1u);  // the plain line has nowhere to go without --topic
    EXPECT_EQ(r.stats.first_bad[0].where, path + ":2");
    EXPECT_NE(r.stats.first_bad[0].reason.find("need --topic"), std::string::npos) << r.stats.first_bad[0].reason;
  }
  {
    ReplayOptions options;
    options.inputs = {path};
    options.topic = "t2";
    FakeProducer producer;
    const auto r = run(options, &producer, clock);
    ASSERT_EQ(producer.sent.size(), 2u);
    EXPECT_EQ(producer.sent[0].topic, "t2");
    EXPECT_EQ(producer.sent[0].value, "v");
    EXPECT_EQ(producer.sent[1].topic, "t2");
    EXPECT_EQ(producer.sent[1].value, "{\"plain\":true}");
    EXPECT_FALSE(producer.sent[1].key.has_value());
    EXPECT_EQ(r.stats.bad_lines, 0u);
  }
  {
    ReplayOptions options;
    options.inputs = {path};
    options.topic = "t3";
    options.format = LineFormat::kLines;  // the envelope line is itself the value
    FakeProducer producer;
    ASSERT_TRUE(run(options, &producer, clock).status.is_ok());
    ASSERT_EQ(producer.sent.size(), 2u);
    EXPECT_EQ(producer.sent[0].value, envelope(make("raw.zalo", 0, 0, 1000, "k", "v")));
  }
  std::remove(path.c_str());
}

TEST(Replay, FromToSelectByRecordTimestamp) {
  const auto path = write_file({envelope(make("t", 0, 0, 1000, "a", "1")), envelope(make("t", 0, 1, 2000, "b", "2")),
                                envelope(make("t", 0, 2, 3000, "c", "3"))});
  ReplayOptions options;
  options.inputs = {path};
  options.from = 2000;
  options.to = 3000;
  FakeProducer producer;
  FakeClock clock;
  const auto r = run(options, &producer, clock);
  ASSERT_EQ(producer.sent.size(), 1u);
  EXPECT_EQ(producer.sent[0].key, "b");
  EXPECT_EQ(r.stats.out_of_range, 2u);
  std::remove(path.c_str());
}

TEST(Replay, SpeedFollowsTimestampsAndRateSpacesRecords) {
  const auto path =
      write_file({envelope(make("t", 0, 0, 10'000, "a", "1")), envelope(make("t", 0, 1, 12'000, "b", "2")),
                  envelope(make("t", 0, 2, 14'000, "c", "3"))});
  {
    ReplayOptions options;
    options.inputs = {path};
    options.speed = 2;  // 2 s apart in the archive -> 1 s apart now
    FakeProducer producer;
    FakeClock clock;
    ASSERT_TRUE(run(options, &producer, clock).status.is_ok());
    EXPECT_EQ(clock.sleeps, (std::vector<std::int64_t>{100,  200,  300,  400,  500,  600,  700,  800,  900,  1000,
                                                       1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000}));
  }
  {
    ReplayOptions options;
    options.inputs = {path};
    options.rate = 20;  // 50 ms apart
    FakeProducer producer;
    FakeClock clock;
    ASSERT_TRUE(run(options, &producer, clock).status.is_ok());
    EXPECT_EQ(clock.sleeps, (std::vector<std::int64_t>{50, 100}));
  }
  std::remove(path.c_str());
}

TEST(Replay, RestampUsesTheSendTime) {
  const auto path = write_file({envelope(make("t", 0, 0, 1000, "a", "1"))});
  ReplayOptions options;
  options.inputs = {path};
  options.restamp_now = true;
  FakeProducer producer;
  FakeClock clock;
  ASSERT_TRUE(run(options, &producer, clock).status.is_ok());
  EXPECT_EQ(producer.sent[0].timestamp, 1'800'000'000'000);
  std::remove(path.c_str());
}

TEST(Replay, DryRunCountsAndUndeliveredRecordsAreReported) {
  const auto path = write_file({envelope(make("a", 0, 0, 1000, "a", "1")), envelope(make("b", 0, 0, 1000, "b", "2")),
                                envelope(make("b", 0, 1, 1000, "b", "3")), "not json"});
  ReplayOptions options;
  options.inputs = {path};
  FakeClock clock;
  const auto dry = run(options, nullptr, clock);
  ASSERT_TRUE(dry.status.is_ok());
  EXPECT_EQ(dry.stats.per_topic.at("a"), 1u);
  EXPECT_EQ(dry.stats.per_topic.at("b"), 2u);
  EXPECT_EQ(dry.stats.bad_lines, 1u);
  const auto text = format_summary(dry.stats, true);
  EXPECT_NE(text.find("3 records would be replayed"), std::string::npos) << text;
  EXPECT_NE(text.find(path + ":4"), std::string::npos) << text;

  FakeProducer producer;
  producer.fail_topic = "b";
  const auto r = run(options, &producer, clock);
  EXPECT_EQ(r.stats.delivered, 1u);
  EXPECT_EQ(r.stats.failed, 2u);
  EXPECT_NE(format_summary(r.stats, false).find("NOT delivered: 2 (first: b: Broker: Unknown topic)"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(Replay, StopsWhenAskedAndSaysSo) {
  const auto path = write_file({envelope(make("t", 0, 0, 1000, "a", "1")), envelope(make("t", 0, 1, 2000, "b", "2"))});
  ReplayOptions options;
  options.inputs = {path};
  FakeProducer producer;
  FakeClock clock;
  std::atomic<bool> stop{true};
  ReplayStats stats;
  ASSERT_TRUE(run_replay(options, &producer, clock, stop, nullptr, stats).is_ok());
  EXPECT_TRUE(producer.sent.empty());
  EXPECT_TRUE(stats.interrupted);
  std::remove(path.c_str());
}

TEST(Replay, MissingFileIsAnError) {
  ReplayOptions options;
  options.inputs = {"/nonexistent/archive.jsonl"};
  FakeClock clock;
  const auto r = run(options, nullptr, clock);
  EXPECT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("/nonexistent/archive.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace vigil::replay
