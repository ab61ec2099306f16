#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/detect/blocklist.h"
#include "common/metrics/server.h"
#include "common/topology/runner.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::topology {

// Owns the metric families of the processing loop and turns the runner's reports into them
// and into the health the /healthz and /readyz endpoints read.
// Lifecycle: created before the runner, outlives it. Called on the processing thread only;
// prometheus-cpp metrics are safe to read from the HTTP threads meanwhile.
class RunnerProbe final : public RunnerObserver {
 public:
  // `prefix` names the loop's own families: "vigil_" for stage A, "vigil_state_" for stage B
  // (vigil_state_ready, vigil_state_consumer_lag...); records, flags, dead letters and rule
  // hits of both stages share the vigil_* families.
  RunnerProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health, const std::string& rule_pack,
              std::string_view prefix = "vigil_", int health_part = 0);
  ~RunnerProbe() override;

  void on_poll(bool source_ready) override;
  void on_commit(const Stats& batch, double seconds, double commit_seconds) override;
  void on_abort() override;

  // From the Kafka source's statistics (called on the processing thread).
  void on_consumer_lag(const std::string& topic, std::int32_t partition, std::int64_t lag);
  // From the Kafka source after each rebalance step: how many partitions are assigned now.
  void on_rebalance(std::size_t assigned_partitions);
  // A new rule pack is in use (hot reload), or one was rejected and the old one kept.
  void on_rule_pack_loaded(const std::string& version);
  void on_rule_pack_rejected();
  // Partitions taken away: their lag is another worker's to report now.
  void on_revoked(const std::string& topic, std::int32_t partition);

  // Known-bad feeds: the feed files in use (loaded at start or reloaded), a reload rejected,
  // the topic's entries by feed after a change, topic records that were not entries, and
  // whether the topic is being read (0 while it does not exist yet).
  void on_blocklist_files(const detect::FeedSet& files);
  void on_blocklist_rejected();
  void on_blocklist_topic(const std::map<std::string, std::size_t>& entries_by_feed);
  void on_blocklist_malformed_records(std::size_t count);
  void on_blocklist_topic_up(bool up);

 private:
  struct Families;
  std::unique_ptr<Families> families_;
  std::shared_ptr<metrics::Health> health_;
  int health_part_ = 0;
  prometheus::Family<prometheus::Gauge>* rule_pack_info_ = nullptr;
  prometheus::Counter* reload_failures_ = nullptr;
  std::string rule_pack_version_;
  std::map<std::string, std::size_t> topic_feeds_;  // last reported topic entries by feed
};

}  // namespace vigil::topology
