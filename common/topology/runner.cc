#include "common/topology/runner.h"

namespace vigil::topology {

Status Runner::run_batch() {
  const auto started = std::chrono::steady_clock::now();
  Stats batch_stats;
  outputs_.clear();
  for (const auto& record : batch_) VIGIL_RETURN_IF_ERROR(stage_.process(record, outputs_, batch_stats));
  VIGIL_RETURN_IF_ERROR(stage_.finish_batch(outputs_, batch_stats));
  VIGIL_RETURN_IF_ERROR(sink_.begin());
  for (const auto& out : outputs_) VIGIL_RETURN_IF_ERROR(sink_.send(out));
  const auto committing = std::chrono::steady_clock::now();
  VIGIL_RETURN_IF_ERROR(sink_.commit(source_, io::next_offsets(batch_)));
  // The batch is durable in Kafka (or the files); local state follows. A crash between the
  // two is repaired by restore, which replays the changelog from the older checkpoint.
  VIGIL_RETURN_IF_ERROR(stage_.committed(sink_.delivered()));
  stats_.merge(batch_stats);
  if (observer_ != nullptr) {
    const auto now = std::chrono::steady_clock::now();
    observer_->on_commit(batch_stats, std::chrono::duration<double>(now - started).count(),
                         std::chrono::duration<double>(now - committing).count());
  }
  return Status::ok();
}

Status Runner::run(const std::atomic<bool>& stop) {
  int aborted_in_a_row = 0;
  while (!stop.load()) {
    batch_.clear();
    if (options_.between_batches) VIGIL_RETURN_IF_ERROR(options_.between_batches());
    VIGIL_RETURN_IF_ERROR(source_.poll(batch_, options_.batch_max_records, options_.batch_max_wait));
    if (observer_ != nullptr) observer_->on_poll(source_.ready());
    if (batch_.empty()) {
      if (source_.at_end()) break;
      continue;
    }
    const Status st = run_batch();
    if (st.is_ok()) {
      aborted_in_a_row = 0;
      continue;
    }
    if (st.code() != Code::kUnavailable || ++aborted_in_a_row > options_.max_aborted_batches_in_a_row) return st;
    // Abortable: nothing of this batch is visible to read_committed readers; read it again.
    if (observer_ != nullptr) observer_->on_abort();
    stage_.aborted();
    VIGIL_RETURN_IF_ERROR(sink_.abort());
    VIGIL_RETURN_IF_ERROR(source_.seek(io::first_offsets(batch_)));
  }
  return Status::ok();
}

}  // namespace vigil::topology
