#include "common/topology/pipeline.h"

#include "common/core/hash.h"

namespace vigil::topology {

Status Pipeline::process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) {
  staged_.clear();
  VIGIL_RETURN_IF_ERROR(a_.process(in, staged_, stats));
  for (auto& r : staged_) {
    if (r.topic != observations_topic_) {
      out.push_back(std::move(r));
      continue;
    }
    if (b_ == nullptr) continue;
    r.partition = kafka_partition_for_key(r.key.value_or(""), partitions_);
    // Stage B counts its input as records and events; the run reports stage A's.
    Stats b;
    VIGIL_RETURN_IF_ERROR(b_->process(r, out, b));
    b.records = 0;
    b.records_by_topic.clear();
    b.events = 0;
    stats.merge(b);
  }
  return Status::ok();
}

Status Pipeline::finish_batch(std::vector<io::Record>& out, Stats& stats) {
  VIGIL_RETURN_IF_ERROR(a_.finish_batch(out, stats));
  return b_ == nullptr ? Status::ok() : b_->finish_batch(out, stats);
}

Status Pipeline::committed(const std::vector<io::TopicPartitionOffset>& delivered) {
  VIGIL_RETURN_IF_ERROR(a_.committed(delivered));
  return b_ == nullptr ? Status::ok() : b_->committed(delivered);
}

void Pipeline::aborted() {
  a_.aborted();
  if (b_ != nullptr) b_->aborted();
}

}  // namespace vigil::topology
