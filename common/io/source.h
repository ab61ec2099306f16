#pragma once

#include <chrono>
#include <vector>

#include "common/core/status.h"
#include "common/io/record.h"

namespace vigil::io {

// Where records come from: Kafka topics in a consumer group, or archive files.
// Lifecycle: created and used by one processing thread; close() before destruction.
class Source {
 public:
  virtual ~Source() = default;

  // Appends up to `max` records to `out`, waiting at most `timeout` for the first one.
  virtual Status poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds timeout) = 0;

  // True once a finite source (files) has delivered its last record. Kafka never ends.
  virtual bool at_end() const = 0;

  // Records consumed up to `next` are done (used when the sink cannot commit positions
  // itself, i.e. outside a Kafka transaction). Files: nothing to do.
  virtual Status commit(const std::vector<TopicPartitionOffset>& next) = 0;

  // Re-reads from these positions (after a batch was aborted).
  virtual Status seek(const std::vector<TopicPartitionOffset>& positions) = 0;

  // Ready to process: has joined its consumer group and received an assignment (possibly
  // empty). Files are always ready.
  virtual bool ready() const { return true; }

  // Delivers records of these partitions again after they were held back (a Kafka source
  // opened with pause_on_assign). Sources that never pause have nothing to do.
  virtual Status resume(const std::vector<TopicPartitionOffset>& /*partitions*/) { return Status::ok(); }

  virtual void close() {}
};

}  // namespace vigil::io
