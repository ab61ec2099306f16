#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/time.h"
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
  std::size_t updates = 0;        // stage B: `update` records of flags raised before
  std::size_t observations = 0;   // stage A: observations sent to stage B
  std::size_t late = 0;           // stage B: observations too late for every window
  std::size_t restored = 0;       // stage B: changelog records restored
  std::size_t corrupt_state = 0;  // stage B: stored values that did not decode (reset)
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

// Appends the dead letter of `in` (original key, value and headers, plus the reason and the
// source coordinates as headers) for `dlq_topic`, stamped `now`, and counts it.
void append_dead_letter(const io::Record& in, const std::string& dlq_topic, std::string_view reason,
                        const std::string& detail, TimestampMs now, std::vector<io::Record>& out, Stats& stats);

}  // namespace vigil::topology
