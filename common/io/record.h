#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/time.h"

namespace vigil::io {

struct Header {
  std::string key;
  std::optional<std::string> value;
};

enum class TimestampType { kNone, kCreate, kLogAppend };

// One Kafka record, read or to be written. For records to write, `partition` < 0 lets the
// producer's partitioner choose and `offset` is ignored.
struct Record {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  TimestampType timestamp_type = TimestampType::kCreate;
  TimestampMs timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
  // Set by a source that could not decode this record (e.g. a broken archive line); `value`
  // then holds the raw bytes and the processor dead-letters it with this reason.
  std::string source_error;
};

// The position to resume a partition from: the offset of the next record to read.
struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;

  bool operator==(const TopicPartitionOffset&) const = default;
};

// Next offsets after `batch`, one per topic-partition (highest offset + 1).
std::vector<TopicPartitionOffset> next_offsets(const std::vector<Record>& batch);
// First offset of each topic-partition in `batch`: where to seek back after an aborted batch.
std::vector<TopicPartitionOffset> first_offsets(const std::vector<Record>& batch);

}  // namespace vigil::io
