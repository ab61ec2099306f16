#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "common/core/status.h"
#include "common/io/sink.h"
#include "common/io/source.h"
#include "common/topology/processor.h"
#include "common/topology/stats.h"

namespace vigil::topology {

// Told how the loop is doing; the metrics probe implements it, so the loop never touches a
// metrics registry. Called on the processing thread.
class RunnerObserver {
 public:
  virtual ~RunnerObserver() = default;
  // Every loop iteration, after a poll: the loop is alive; `source_ready` as Source::ready().
  virtual void on_poll(bool source_ready) = 0;
  // A batch (its counts in `batch`) was committed after `seconds` of processing and commit,
  // of which `commit_seconds` for the commit itself (the Kafka transaction, or the fsync).
  virtual void on_commit(const Stats& batch, double seconds, double commit_seconds) = 0;
  virtual void on_abort() = 0;
};

struct RunnerOptions {
  std::size_t batch_max_records = 500;
  std::chrono::milliseconds batch_max_wait{100};
  int max_aborted_batches_in_a_row = 5;
  // Called on the processing thread before each poll, when no batch is in flight: the place
  // to swap a rule pack without splitting or repeating a batch. An error ends run() with it.
  std::function<Status()> between_batches;
};

// Drives read → process → write → commit in batches: each batch's outputs and its source
// positions are committed together (one Kafka transaction online, fsync then commit
// offline). An abortable commit failure aborts the batch and re-reads it; a fatal one
// (e.g. the producer was fenced by a newer instance) ends run() with that error.
// Lifecycle: run() on one thread; `stop` may be set from any thread or a signal handler and
// takes effect after the batch in progress is committed.
class Runner {
 public:
  Runner(io::Source& source, io::Sink& sink, Processor& stage, RunnerOptions options,
         RunnerObserver* observer = nullptr)
      : source_(source), sink_(sink), stage_(stage), options_(options), observer_(observer) {}

  Status run(const std::atomic<bool>& stop);

  // Totals of committed batches only.
  const Stats& stats() const { return stats_; }

 private:
  Status run_batch();

  io::Source& source_;
  io::Sink& sink_;
  Processor& stage_;
  RunnerOptions options_;
  RunnerObserver* observer_;
  Stats stats_;
  std::vector<io::Record> batch_;
  std::vector<io::Record> outputs_;
};

}  // namespace vigil::topology
