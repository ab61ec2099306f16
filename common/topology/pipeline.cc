#include "common/topology/pipeline.h"

#include <deque>

#include "common/core/hash.h"

namespace vigil::topology {

Status Pipeline::process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) {
  staged_.clear();
  VIGIL_RETURN_IF_ERROR(a_.process(in, staged_, stats));
  if (b_ == nullptr) {
    for (auto& r : staged_) {
      if (r.topic != observations_topic_) out.push_back(std::move(r));
    }
    return Status::ok();
  }
  VIGIL_RETURN_IF_ERROR(to_stage_b(staged_, out, stats));
  // Watermarks after every record, not every batch: ring flags then come at the same place in
  // the output whatever the batch size (docs/state.md).
  staged_.clear();
  b_->send_watermarks(staged_);
  return to_stage_b(staged_, out, stats);
}

Status Pipeline::to_stage_b(std::vector<io::Record>& records, std::vector<io::Record>& out, Stats& stats) {
  // Observations, and the ring messages stage B sends itself through the same topic, in the
  // order they were produced, until none is left.
  std::deque<io::Record> queue;
  for (auto& r : records) {
    if (r.topic == observations_topic_) {
      queue.push_back(std::move(r));
    } else {
      out.push_back(std::move(r));
    }
  }
  while (!queue.empty()) {
    io::Record r = std::move(queue.front());
    queue.pop_front();
    r.partition = kafka_partition_for_key(r.key.value_or(""), partitions_);
    // Stage B counts its input as records and events; the run reports stage A's.
    Stats b;
    b_out_.clear();
    VIGIL_RETURN_IF_ERROR(b_->process(r, b_out_, b));
    for (auto& o : b_out_) {
      if (o.topic == observations_topic_) {
        queue.push_back(std::move(o));
      } else {
        out.push_back(std::move(o));
      }
    }
    b.records = 0;
    b.records_by_topic.clear();
    b.events = 0;
    stats.merge(b);
  }
  return Status::ok();
}

Status Pipeline::finish_batch(std::vector<io::Record>& out, Stats& stats) {
  VIGIL_RETURN_IF_ERROR(a_.finish_batch(out, stats));
  if (b_ == nullptr) return Status::ok();
  staged_.clear();
  VIGIL_RETURN_IF_ERROR(b_->finish_batch(staged_, stats));
  return to_stage_b(staged_, out, stats);
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
