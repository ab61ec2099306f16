#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/adapters/adapter.h"
#include "common/core/config.h"
#include "common/detect/detector.h"
#include "common/detect/flag.h"
#include "common/io/record.h"
#include "common/topology/observation.h"
#include "common/topology/processor.h"
#include "common/topology/stats.h"

namespace vigil::topology {

// Stage A: parse, normalise, extract, run content rules, emit flags and dead letters.
// Pure with respect to I/O: records in, records out; the runner owns sources and sinks.
// Lifecycle: one per processing thread; not thread-safe.
class StageA final : public Processor {
 public:
  using Clock = std::function<TimestampMs()>;

  StageA(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, Clock clock = wall_clock_ms);

  // Appends what `in` produces (flags and, with state enabled, one observation per entity;
  // or one dead letter) to `out`. Never fails: anything that cannot be processed is
  // dead-lettered with its reason.
  Status process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) override;

  const detect::RulePack& pack() const { return detector_.pack(); }

  // Swaps the rule pack; records processed afterwards use the new one. Call between batches
  // (the runner's between-batches hook) so that one batch is judged by one pack.
  void set_rule_pack(std::shared_ptr<const detect::RulePack> pack) {
    detector_ = detect::Detector(std::move(pack));
    detector_.set_blocklist(blocklist_);
  }

  // Known-bad domains for links. The caller changes the blocklist only between batches.
  void set_blocklist(std::shared_ptr<const detect::Blocklist> blocklist) {
    blocklist_ = std::move(blocklist);
    detector_.set_blocklist(blocklist_);
  }

 private:
  void dead_letter(const io::Record& in, std::string_view reason, const std::string& detail,
                   std::vector<io::Record>& out, Stats& stats);
  void observe(std::vector<io::Record>& out, Stats& stats);

  DetectorConfig config_;
  std::shared_ptr<const detect::Blocklist> blocklist_;
  detect::Detector detector_;
  Clock clock_;
  std::map<std::string, std::unique_ptr<Adapter>, std::less<>> adapters_;  // by topic
  Event event_;
  std::vector<detect::Finding> findings_;
  detect::RenderedFlag rendered_;
  Observation observation_;
  std::vector<std::string> observed_;   // keys of this event's observations
  std::vector<std::string> ring_keys_;  // keys of this event's ring-eligible entities
};

}  // namespace vigil::topology
