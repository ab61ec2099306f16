#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "common/core/config.h"
#include "common/detect/rule_pack.h"
#include "common/metrics/server.h"
#include "common/topology/stats.h"

namespace prometheus {
class Registry;
}

namespace vigil::detector {

// Stage B online: a consumer group on the observations topic, its own transactional
// producer (flags, dead letters, changelog and offsets in one transaction per batch), the
// RocksDB store, and a changelog reader for restore. Runs on its own thread beside stage A.
// Lifecycle: open() on the main thread; run() on the stage B thread; set_rule_pack() from
// any thread (taken between batches); destroyed after run() returned.
class StateWorker {
 public:
  static Result<std::unique_ptr<StateWorker>> open(const DetectorConfig& config,
                                                   std::shared_ptr<const detect::RulePack> pack,
                                                   const std::string& instance, prometheus::Registry& registry,
                                                   std::shared_ptr<metrics::Health> health);
  ~StateWorker();

  [[nodiscard]] Status run(const std::atomic<bool>& stop);
  void set_rule_pack(std::shared_ptr<const detect::RulePack> pack);
  // Totals of committed batches; read after run() returned.
  const topology::Stats& stats() const;

 private:
  struct Impl;
  explicit StateWorker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Creates the observations and (compacted) changelog topics when they do not exist.
[[nodiscard]] Status create_state_topics(const DetectorConfig& config);

}  // namespace vigil::detector
