#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"
#include "common/io/record.h"

namespace vigil::io {

struct GroupDescription {
  std::string group;
  std::string state;  // Empty, Stable, PreparingRebalance, Dead...
  int members = 0;
};

struct PartitionWatermarks {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t low = 0;   // first offset still in the log
  std::int64_t high = 0;  // offset the next record will get
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;                 // -1: the broker's default
  std::map<std::string, std::string> configs;  // cleanup.policy=compact...
};

// The cluster-level questions the tools ask: which partitions a topic has, where a time lies
// in each of them, a consumer group's members and committed offsets, and moving those
// offsets. Synchronous; every call waits at most `timeout`.
// Lifecycle: open() once per tool run, then used from one thread.
class KafkaAdmin {
 public:
  virtual ~KafkaAdmin() = default;

  // Every partition of every topic (offset fields set to 0). A missing topic is kNotFound.
  virtual Result<std::vector<TopicPartitionOffset>> partitions(const std::vector<std::string>& topics) = 0;

  // Names of all topics in the cluster, sorted (internal "__" topics left out).
  virtual Result<std::vector<std::string>> topic_names() = 0;

  virtual Result<std::vector<PartitionWatermarks>> watermarks(const std::vector<std::string>& topics) = 0;

  // For each partition of `topics`, the offset of the first record whose timestamp is at or
  // after `time`, or the end of the partition when there is none (ListOffsets by time).
  virtual Result<std::vector<TopicPartitionOffset>> offsets_for_time(const std::vector<std::string>& topics,
                                                                     TimestampMs time) = 0;

  virtual Result<GroupDescription> describe_group(const std::string& group) = 0;

  // Committed offsets of `group` on every partition of `topics`; -1 where there is none.
  virtual Result<std::vector<TopicPartitionOffset>> committed_offsets(const std::string& group,
                                                                      const std::vector<std::string>& topics) = 0;

  // Creates the topics that do not exist yet; existing ones are left as they are.
  virtual Status create_topics(const std::vector<TopicSpec>& topics) = 0;

  // Sets the group's committed offsets. The broker refuses while the group has members.
  virtual Status alter_group_offsets(const std::string& group, const std::vector<TopicPartitionOffset>& offsets) = 0;
};

// `properties` are librdkafka client properties (bootstrap.servers, security.*, sasl.*).
Result<std::unique_ptr<KafkaAdmin>> open_kafka_admin(const std::map<std::string, std::string>& properties,
                                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace vigil::io
