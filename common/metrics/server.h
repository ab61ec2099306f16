#pragma once

#include <atomic>
#include <chrono>
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
  void heartbeat() { last_beat_ns_.store(now_ns(), std::memory_order_relaxed); }
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
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
  std::atomic<bool> ready_{false};
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
