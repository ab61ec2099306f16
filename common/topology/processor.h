#pragma once

#include <vector>

#include "common/core/status.h"
#include "common/io/record.h"
#include "common/topology/stats.h"

namespace vigil::topology {

// One sub-topology's work on a batch, as the Runner drives it: process() every record,
// finish_batch(), then, once the sink committed the batch (Kafka transaction or fsync),
// committed() with the positions the sink delivered records to; or aborted() when the batch
// is thrown away and will be read again.
// Lifecycle: owned by the caller of Runner; every method is called on the runner's thread.
class Processor {
 public:
  virtual ~Processor() = default;
  // Appends what `in` produces to `out`. A bad record is dead-lettered, not an error; an
  // error (state I/O) fails the batch: kUnavailable retries it, anything else stops the run.
  [[nodiscard]] virtual Status process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) = 0;
  [[nodiscard]] virtual Status finish_batch(std::vector<io::Record>& /*out*/, Stats& /*stats*/) { return Status::ok(); }
  // `delivered`: per topic-partition, the offset after the last record the batch wrote there.
  [[nodiscard]] virtual Status committed(const std::vector<io::TopicPartitionOffset>& /*delivered*/) {
    return Status::ok();
  }
  virtual void aborted() {}
};

}  // namespace vigil::topology
