#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/core/config.h"
#include "common/core/status.h"
#include "common/detect/blocklist.h"
#include "common/io/source.h"
#include "common/topology/blocklist_topic.h"
#include "common/topology/probe.h"

namespace vigil::detector {

// The known-bad feeds of one detector run: the feed files of the config (reloaded when they
// change or on SIGHUP, like the rule pack) and, online, the blocklist topic, read from the
// beginning by a consumer of its own without a group.
// Lifecycle: created at start-up, then used only on the processing thread between batches,
// which is also the only time the blocklist changes.
class Intel {
 public:
  // Loads every feed file; one that cannot be read is an error (exit 2 at start-up).
  static Result<std::unique_ptr<Intel>> start(const DetectorConfig& config, const detect::RulePack& pack,
                                              topology::RunnerProbe& probe, bool online);

  std::shared_ptr<const detect::Blocklist> blocklist() const { return blocklist_; }

  // Online: opens the topic and applies it up to its end as of now, waiting at most
  // intel.startup_wait_seconds, so that the first batch is judged with every live entry.
  void catch_up(const detect::RulePack& pack);

  // Between batches: reloads the files when due (or when `reload` is asked), applies what
  // arrived on the topic, and retries opening a topic that did not exist.
  void between_batches(const detect::RulePack& pack, bool reload);

  void close();

 private:
  Intel(const DetectorConfig& config, topology::RunnerProbe& probe, bool online);
  void log_files(const detect::FeedSet& files, const detect::RulePack& pack) const;
  bool open_topic();
  // Applies what the topic has; false when the consumer failed (it is then reopened later).
  bool poll_topic(const detect::RulePack& pack, std::chrono::milliseconds wait, std::size_t* records = nullptr);

  DetectorConfig config_;
  topology::RunnerProbe& probe_;
  bool online_;
  std::shared_ptr<detect::Blocklist> blocklist_ = std::make_shared<detect::Blocklist>();
  std::unique_ptr<detect::FeedWatcher> watcher_;
  std::unique_ptr<io::Source> topic_source_;
  topology::BlocklistTopic topic_{*blocklist_};
  std::chrono::steady_clock::time_point next_open_{};
  bool warned_missing_ = false;
};

}  // namespace vigil::detector
