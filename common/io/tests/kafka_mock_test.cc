// Fast fault-injection tests of the Kafka sink on librdkafka's mock cluster. The real-broker
// tests live in tests/ at the top of the repository; these only cover what the mock does well.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <set>

#include "common/core/hash.h"
#include "common/io/kafka/kafka_io.h"

namespace vigil::io {
namespace {

class MockCluster {
 public:
  MockCluster() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
    rd_kafka_mock_topic_create(cluster_, "flags.test", 1, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  rd_kafka_mock_cluster_t* get() { return cluster_; }

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

// Values visible to a read_committed reader of partition 0.
std::vector<std::string> read_committed(const std::string& bootstrap, const std::string& topic, std::size_t expect) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "reader", err, sizeof err);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(c, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<std::string> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // Read past `expect` for a moment so that extra (duplicate or aborted) records would show.
  auto quiet_until = deadline;
  while (std::chrono::steady_clock::now() < std::min(deadline, quiet_until)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) out.emplace_back(static_cast<const char*>(m->payload), m->len);
    rd_kafka_message_destroy(m);
    if (out.size() >= expect && quiet_until == deadline)
      quiet_until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return out;
}

class NoSource final : public Source {
 public:
  Status poll(std::vector<Record>&, std::size_t, std::chrono::milliseconds) override { return Status::ok(); }
  bool at_end() const override { return true; }
  Status commit(const std::vector<TopicPartitionOffset>&) override {
    ++commits;
    return Status::ok();
  }
  Status seek(const std::vector<TopicPartitionOffset>&) override { return Status::ok(); }
  int commits = 0;
};

Record flag(const std::string& v) {
  Record r;
  r.topic = "flags.test";
  r.value = v;
  r.headers = {{"category", std::string("test")}};
  return r;
}

TEST(KafkaSinkMock, CommittedBatchesAreVisibleAbortedOnesAreNot) {
  MockCluster mock;
  auto sink =
      open_kafka_sink({{{"bootstrap.servers", mock.bootstrap()}, {"transactional.id", "t1"}, {"log_level", "0"}}});
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  NoSource source;
  ASSERT_TRUE(sink.value()->begin().is_ok());
  for (const char* v : {"a", "b", "c"}) ASSERT_TRUE(sink.value()->send(flag(v)).is_ok());
  ASSERT_TRUE(sink.value()->commit(source, {}).is_ok());
  EXPECT_EQ(source.commits, 1);  // not a Kafka source: it commits its own positions after the transaction

  ASSERT_TRUE(sink.value()->begin().is_ok());
  for (const char* v : {"x", "y"}) ASSERT_TRUE(sink.value()->send(flag(v)).is_ok());
  ASSERT_TRUE(sink.value()->abort().is_ok());
  sink.value()->close();
  EXPECT_EQ(read_committed(mock.bootstrap(), "flags.test", 3), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(KafkaSinkMock, RetriableProduceErrorsDoNotDuplicate) {
  MockCluster mock;
  rd_kafka_mock_push_request_errors(mock.get(), 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  auto sink =
      open_kafka_sink({{{"bootstrap.servers", mock.bootstrap()}, {"transactional.id", "t2"}, {"log_level", "0"}}});
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  NoSource source;
  ASSERT_TRUE(sink.value()->begin().is_ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink.value()->send(flag(std::to_string(i))).is_ok());
  const Status st = sink.value()->commit(source, {});
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  sink.value()->close();
  EXPECT_EQ(read_committed(mock.bootstrap(), "flags.test", 5), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

// Stage A's observations are keyed by entity; offline, the pipeline places them with
// kafka_partition_for_key (murmur2), so the sink must place them the same way online.
TEST(KafkaSinkMock, KeyedRecordsLandWhereMurmur2PutsThem) {
  MockCluster mock;
  rd_kafka_mock_topic_create(mock.get(), "observations.test", 6, 1);
  auto sink =
      open_kafka_sink({{{"bootstrap.servers", mock.bootstrap()}, {"transactional.id", "t3"}, {"log_level", "0"}}});
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  NoSource source;
  std::set<std::int32_t> want;
  for (int i = 0; i < 40; ++i) {
    // One key per transaction: delivered() then names the partition it went to.
    Record r;
    r.topic = "observations.test";
    r.key = "domain:example-" + std::to_string(i) + ".com";
    r.value = "v";
    ASSERT_TRUE(sink.value()->begin().is_ok());
    ASSERT_TRUE(sink.value()->send(r).is_ok());
    ASSERT_TRUE(sink.value()->commit(source, {}).is_ok());
    const auto delivered = sink.value()->delivered();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].partition, kafka_partition_for_key(*r.key, 6)) << *r.key;
    want.insert(delivered[0].partition);
  }
  EXPECT_GT(want.size(), 3u);
  sink.value()->close();
}

TEST(ConsumerLag, ParsedFromLibrdkafkaStatistics) {
  // Trimmed from a real statistics document: the unassigned partition (-1) and partitions
  // whose lag is not known yet (-1) are left out.
  // Partition 2 is what a transactional (exactly-once) consumer reports: no committed offset
  // known to the consumer, so consumer_lag is -1, but its position (app_offset) and the last
  // stable offset say it is 25 behind.
  const std::string stats = R"({"name":"c#1","topics":{"raw.telegram":{"topic":"raw.telegram","partitions":{
      "0":{"partition":0,"consumer_lag":42,"hi_offset":100},"1":{"partition":1,"consumer_lag":-1},
      "2":{"partition":2,"consumer_lag":-1,"hi_offset":130,"ls_offset":125,"app_offset":100,"committed_offset":-1001},
      "-1":{"partition":-1,"consumer_lag":-1}}},"raw.zalo":{"partitions":{"3":{"consumer_lag":0}}}}})";
  const auto lags = parse_consumer_lag(stats);
  ASSERT_EQ(lags.size(), 3u);
  EXPECT_EQ(lags[0].topic, "raw.telegram");
  EXPECT_EQ(lags[0].partition, 0);
  EXPECT_EQ(lags[0].lag, 42);
  EXPECT_EQ(lags[1].partition, 2);
  EXPECT_EQ(lags[1].lag, 25);
  EXPECT_EQ(lags[2].topic, "raw.zalo");
  EXPECT_EQ(lags[2].partition, 3);
  EXPECT_EQ(lags[2].lag, 0);
  EXPECT_TRUE(parse_consumer_lag("not json").empty());
}

TEST(KafkaSourceMock, RequiresGroupIdAndRejectsBadProperties) {
  KafkaSourceOptions options;
  options.properties = {{"bootstrap.servers", "127.0.0.1:1"}};
  options.topics = {"t"};
  auto s = open_kafka_source(options);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("group.id"), std::string::npos);
  auto k = open_kafka_sink({{{"no.such.property", "1"}}});
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.status().message().find("no.such.property"), std::string::npos);
}

}  // namespace
}  // namespace vigil::io
