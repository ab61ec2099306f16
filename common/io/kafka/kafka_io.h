#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/time.h"
#include "common/io/sink.h"
#include "common/io/source.h"

namespace vigil::io {

// How far the consumer is behind the end of one partition (from librdkafka statistics).
struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t lag = 0;
};

// Where a consumer without a group starts reading each partition.
enum class StartAt { kBeginning, kEnd, kTime };

struct KafkaSourceOptions {
  // librdkafka consumer properties (bootstrap.servers, group.id, security...). Defaults
  // applied when absent: enable.auto.commit=false, isolation.level=read_committed,
  // auto.offset.reset=earliest, partition.assignment.strategy=cooperative-sticky.
  std::map<std::string, std::string> properties;
  std::vector<std::string> topics;
  // Called on the polling thread with the lag of every assigned partition each time
  // librdkafka emits statistics (statistics.interval.ms, 5000 unless set).
  std::function<void(const std::vector<PartitionLag>&)> on_lag;
  // Called on the polling thread, inside poll(), just before partitions are taken away in a
  // rebalance (offsets unset): the last moment to commit work done on them.
  std::function<void(const std::vector<TopicPartitionOffset>&)> on_revoke;
  // Called on the polling thread after each rebalance step with the number of partitions
  // assigned now.
  std::function<void(std::size_t)> on_rebalance;
  // Called on the polling thread with the partitions each rebalance step adds; with
  // `pause_on_assign` they are paused first, until Source::resume().
  std::function<void(const std::vector<TopicPartitionOffset>&)> on_assign;
  bool pause_on_assign = false;

  // Without a group: when set, every partition of `topics` is assigned to this consumer
  // directly, starting at `start` (at `start_time` for kTime); it joins no group and
  // commit() does nothing. A topic that does not exist is an error at open time.
  bool assign_all = false;
  StartAt start = StartAt::kEnd;
  TimestampMs start_time = 0;
};

// The per-partition consumer lag in a librdkafka statistics JSON document (partitions whose
// lag is not known yet are left out). Exposed for tests.
std::vector<PartitionLag> parse_consumer_lag(std::string_view statistics_json);

// A high-level consumer in a consumer group, subscribed to `topics`. Records of partitions
// revoked while a poll() was collecting them are dropped from that poll's result (their new
// owner reads them from the committed offset).
Result<std::unique_ptr<Source>> open_kafka_source(const KafkaSourceOptions& options);

struct KafkaSinkOptions {
  // librdkafka producer properties. With `transactional.id` set, each batch is one
  // transaction that also carries the consumer offsets of a Kafka source (exactly-once);
  // without it the producer is idempotent and commits offsets after a flush. Records with
  // partition < 0 are placed by murmur2_random unless `partitioner` is set (as Producer).
  std::map<std::string, std::string> properties;
  std::chrono::milliseconds timeout{30000};
};

Result<std::unique_ptr<Sink>> open_kafka_sink(const KafkaSinkOptions& options);

struct ProducerCounts {
  std::uint64_t queued = 0;
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::string first_error;  // topic and reason of the first failed delivery
};

// A plain asynchronous producer (idempotent unless the properties say otherwise) for tools
// that move records without transactions, e.g. vigil-replay. Records with partition < 0 are
// placed by the partitioner (murmur2_random unless set: the Java clients' choice, so keyed
// records land where a Java producer would put them).
// Lifecycle: created, used and destroyed by one thread.
class Producer {
 public:
  virtual ~Producer() = default;
  // Queues a copy of `record`, waiting while librdkafka's queue is full.
  virtual Status send(const Record& record) = 0;
  // Serves delivery reports without waiting.
  virtual void poll() = 0;
  // Waits until every queued record is delivered or failed; an error if time ran out.
  virtual Status flush(std::chrono::milliseconds timeout) = 0;
  virtual const ProducerCounts& counts() const = 0;
};

// Reads one partition from an offset up to its current end (read_committed: the last
// committed record), without a consumer group: the restore path of state stores.
// Lifecycle: used by one thread; one consumer connection is kept for all reads.
class PartitionReader {
 public:
  virtual ~PartitionReader() = default;
  // Calls `fn` for each record from `from` on, until the end or until `fn` returns false;
  // returns the offset after the last record read. kNotFound when `from` is outside the
  // partition (before its log start or after its end).
  [[nodiscard]] virtual Result<std::int64_t> read(const std::string& topic, std::int32_t partition, std::int64_t from,
                                                  const std::function<bool(const Record&)>& fn) = 0;
};

Result<std::unique_ptr<PartitionReader>> open_partition_reader(const std::map<std::string, std::string>& properties);

Result<std::unique_ptr<Producer>> open_kafka_producer(const std::map<std::string, std::string>& properties);

}  // namespace vigil::io
