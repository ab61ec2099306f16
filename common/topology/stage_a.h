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

namespace vigil::topology {

// A one-line description of a flag, for run summaries.
struct FlagNote {
  std::string severity;
  std::string category;
  std::string key;
  std::string reason;  // reason_en of the heaviest rule
  std::string source;  // topic/partition@offset
};

// Counts of one batch or of a whole run, and the first few flags as examples.
struct Stats {
  static constexpr std::size_t kMaxNotes = 10;

  std::size_t records = 0;
  std::map<std::string, std::size_t, std::less<>> records_by_topic;
  std::size_t events = 0;
  std::size_t skipped = 0;
  std::size_t flags = 0;
  std::map<std::string, std::size_t> flags_by_category;
  std::map<std::pair<std::string, std::string>, std::size_t> flags_by_category_severity;
  std::map<std::string, std::size_t> rule_hits;       // by rule id, over the flags produced
  std::map<std::string, std::size_t> blocklist_hits;  // flags with a known-bad feed hit, by feed
  // Kafka record timestamps of the records that produced flags (for event-to-flag latency;
  // one entry per flag, kept only for the batch).
  std::vector<TimestampMs> flag_record_times;
  std::map<std::string, std::size_t> dead_letters_by_reason;
  std::vector<FlagNote> first_flags;

  std::size_t dead_letters() const;
  void merge(const Stats& other);
};

// Dead-letter headers: the reason, its detail and where the record came from. The value and
// key of a dead letter are the original bytes, untouched.
inline constexpr std::string_view kDlqReasonHeader = "vigil.dlq.reason";
inline constexpr std::string_view kDlqDetailHeader = "vigil.dlq.detail";

// Stage A: parse, normalise, extract, run content rules, emit flags and dead letters.
// Pure with respect to I/O: records in, records out; the runner owns sources and sinks.
// Lifecycle: one per processing thread; not thread-safe.
class StageA {
 public:
  using Clock = std::function<TimestampMs()>;

  StageA(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, Clock clock = wall_clock_ms);

  // Appends what `in` produces (flags, or one dead letter) to `out`. Never fails: anything
  // that cannot be processed is dead-lettered with its reason.
  void process(const io::Record& in, std::vector<io::Record>& out, Stats& stats);

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

  DetectorConfig config_;
  std::shared_ptr<const detect::Blocklist> blocklist_;
  detect::Detector detector_;
  Clock clock_;
  std::map<std::string, std::unique_ptr<Adapter>, std::less<>> adapters_;  // by topic
  Event event_;
  std::vector<detect::Finding> findings_;
  detect::RenderedFlag rendered_;
};

}  // namespace vigil::topology
