#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/core/status.h"

namespace prometheus {
class Registry;
}

namespace vigil::metrics {

// What the processing loop tells the probes endpoints: a heartbeat per loop iteration and
// whether it is ready (joined its group, or reading files). Thread-safety: written by the
// processing thread, read by HTTP threads; all atomics.
class Health {
 public:
  // Another part that must be ready before /readyz says so (a second processing loop, state
  // restore), not ready until told; returns its index for set_ready(). Part 0 exists from the
  // start. Call at start-up, before the parts run; at most 32 parts.
  int add_part() {
    const int part = parts_++;
    not_ready_.fetch_or(1U << part, std::memory_order_relaxed);
    return part;
  }
  void heartbeat() { last_beat_ns_.store(now_ns(), std::memory_order_relaxed); }
  void set_ready(bool ready, int part = 0) {
    const std::uint32_t bit = 1U << part;
    if (ready) {
      not_ready_.fetch_and(~bit, std::memory_order_relaxed);
    } else {
      not_ready_.fetch_or(bit, std::memory_order_relaxed);
    }
  }
  bool ready() const { return not_ready_.load(std::memory_order_relaxed) == 0; }
  // Alive while the loop has beaten within `max_silence` (a loop stuck in a call stops beating).
  bool alive(std::chrono::nanoseconds max_silence) const {
    return now_ns() - last_beat_ns_.load(std::memory_order_relaxed) <= max_silence.count();
  }

 private:
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<std::int64_t> last_beat_ns_{now_ns()};
  std::atomic<std::uint32_t> not_ready_{1};  // bit i: part i not ready
  int parts_ = 1;
};

// HTTP endpoints for operators: /metrics (Prometheus text format of `registry`), /healthz
// (200 while the loop beats, 503 when stuck) and /readyz (200 once ready, 503 before).
// Lifecycle: start() binds and serves from civetweb's threads until destruction (which
// waits for in-flight requests).
class Server {
 public:
  struct Options {
    std::string listen = "127.0.0.1:9464";  // host:port; port 0 picks a free one
    std::chrono::seconds max_silence{30};
  };

  static Result<std::unique_ptr<Server>> start(const Options& options, std::shared_ptr<prometheus::Registry> registry,
                                               std::shared_ptr<const Health> health);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }

 private:
  Server() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace vigil::metrics
