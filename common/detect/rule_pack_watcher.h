#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/core/status.h"
#include "common/detect/rule_pack.h"

namespace vigil::detect {

// Decides when to reload a rule pack and loads it: when asked (SIGHUP) or when the file's
// modification time or size changed since the last successful or failed load (checked at
// most every `check_every`). A pack that does not load is reported once per change, and the
// caller keeps the pack it has.
// Lifecycle: poll() on the processing thread between batches, so a reload never splits a
// batch; request() may be called from a signal handler (it only sets an atomic).
class RulePackWatcher {
 public:
  RulePackWatcher(std::string path, std::chrono::milliseconds check_every);

  void request() { requested_.store(true, std::memory_order_relaxed); }

  struct Outcome {
    std::shared_ptr<const RulePack> pack;  // set when a new pack loaded
    Status error;                          // set when a reload was due and failed
  };
  // Nothing due: both empty.
  Outcome poll();

  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    std::int64_t mtime_ns = -1;
    std::int64_t size = -1;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;

  std::string path_;
  std::chrono::milliseconds check_every_;
  std::chrono::steady_clock::time_point next_check_;
  Stamp seen_;
  std::atomic<bool> requested_{false};
};

}  // namespace vigil::detect
