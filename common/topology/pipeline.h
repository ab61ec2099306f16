#pragma once

#include <vector>

#include "common/topology/processor.h"
#include "common/topology/stage_a.h"
#include "common/topology/stage_b.h"

namespace vigil::topology {

// Offline mode: stage A and stage B in one processor. Observations do not go through Kafka:
// each is placed in the partition Kafka's partitioner would choose for its key (among
// `partitions`) and handed to stage B at once, so the same stores see the same entities as
// online. Only flags and dead letters reach the sink.
// Lifecycle: as Processor; the stages outlive it.
class Pipeline final : public Processor {
 public:
  Pipeline(StageA& a, StageB* b, std::string observations_topic, std::int32_t partitions)
      : a_(a), b_(b), observations_topic_(std::move(observations_topic)), partitions_(partitions) {}

  Status process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) override;
  Status finish_batch(std::vector<io::Record>& out, Stats& stats) override;
  Status committed(const std::vector<io::TopicPartitionOffset>& delivered) override;
  void aborted() override;

 private:
  // Hands observations and ring messages among `records` to stage B (and what that sends
  // itself, until none is left); everything else goes to `out`.
  Status to_stage_b(std::vector<io::Record>& records, std::vector<io::Record>& out, Stats& stats);

  StageA& a_;
  StageB* b_;
  std::string observations_topic_;
  std::int32_t partitions_;
  std::vector<io::Record> staged_;
  std::vector<io::Record> b_out_;
};

}  // namespace vigil::topology
