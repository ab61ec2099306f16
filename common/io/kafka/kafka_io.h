#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/io/sink.h"
#include "common/io/source.h"

namespace vigil::io {

// How far the consumer is behind the end of one partition (from librdkafka statistics).
struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t lag = 0;
};

struct KafkaSourceOptions {
  // librdkafka consumer properties (bootstrap.servers, group.id, security...). Defaults
  // applied when absent: enable.auto.commit=false, isolation.level=read_committed,
  // auto.offset.reset=earliest, partition.assignment.strategy=cooperative-sticky.
  std::map<std::string, std::string> properties;
  std::vector<std::string> topics;
  // Called on the polling thread with the lag of every assigned partition each time
  // librdkafka emits statistics (statistics.interval.ms, 5000 unless set).
  std::function<void(const std::vector<PartitionLag>&)> on_lag;
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
  // without it the producer is idempotent and commits offsets after a flush.
  std::map<std::string, std::string> properties;
  std::chrono::milliseconds timeout{30000};
};

Result<std::unique_ptr<Sink>> open_kafka_sink(const KafkaSinkOptions& options);

}  // namespace vigil::io
