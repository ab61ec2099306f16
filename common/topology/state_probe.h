#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/metrics/server.h"
#include "common/state/store.h"
#include "common/topology/probe.h"
#include "common/topology/stage_b.h"

namespace vigil::topology {

// Stage B's metrics: its loop (through a RunnerProbe with the vigil_state_ prefix), restores
// (vigil_restoring_partitions, vigil_restore_seconds, vigil_state_restored_records_total),
// late observations, flag updates and the RocksDB store (vigil_rocksdb_*). Readiness:
// its health part is ready only while no assigned partition is restoring.
// Lifecycle: created before stage B's runner, outlives it; called on the stage B thread.
class StateProbe final : public RunnerObserver, public RestoreObserver {
 public:
  StateProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health, const std::string& rule_pack,
             const state::Store& store);
  ~StateProbe() override;

  RunnerProbe& runner() { return runner_; }

  void on_poll(bool source_ready) override { runner_.on_poll(source_ready); }
  void on_commit(const Stats& batch, double seconds, double commit_seconds) override;
  void on_abort() override { runner_.on_abort(); }
  void on_restoring(std::size_t partitions) override;
  void on_restored(const Restored& restored) override;

 private:
  struct Families;
  void sample_store();

  RunnerProbe runner_;
  std::shared_ptr<metrics::Health> health_;
  int restore_part_;
  const state::Store& store_;
  std::unique_ptr<Families> families_;
  std::chrono::steady_clock::time_point last_sample_{};
};

}  // namespace vigil::topology
