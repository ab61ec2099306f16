#pragma once

#include <vector>

#include "common/core/status.h"
#include "common/io/record.h"
#include "common/io/source.h"

namespace vigil::io {

// Where flags and dead letters go: a transactional Kafka producer or files.
// A batch is begin() → send()* → commit() or abort(); commit() makes the batch's records and
// the source positions durable together (one Kafka transaction holding the consumer offsets,
// or an fsync followed by the source's own commit).
// Lifecycle: created and used by one processing thread.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status begin() = 0;
  virtual Status send(const Record& record) = 0;
  virtual Status commit(Source& source, const std::vector<TopicPartitionOffset>& next) = 0;
  virtual Status abort() = 0;
  // After commit(): per topic-partition, the offset after the last record of the batch
  // (what a changelog checkpoint needs). Sinks without offsets return nothing.
  virtual std::vector<TopicPartitionOffset> delivered() const { return {}; }
  virtual void close() {}
};

}  // namespace vigil::io
