#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"
#include "common/io/kafka/kafka_io.h"
#include "common/io/record.h"

namespace vigil::replay {

enum class LineFormat {
  kAuto,      // envelope when the line decodes as one, else a plain value (needs --topic)
  kEnvelope,  // every line must be a kcat -J envelope
  kLines,     // every line is a record value for --topic
};

enum class PartitionBy { kKey, kOriginal };

struct ReplayOptions {
  std::vector<std::string> inputs;  // files, in order
  LineFormat format = LineFormat::kAuto;
  std::string topic;                             // all records go here when set
  std::map<std::string, std::string> topic_map;  // old -> new, for envelopes without --topic
  PartitionBy partition_by = PartitionBy::kKey;
  bool restamp_now = false;
  double speed = 0.0;               // 0: as fast as possible; 1: original pacing; 2: twice as fast
  double rate = 0.0;                // records per second; 0: unlimited
  std::optional<TimestampMs> from;  // record timestamp >= from
  std::optional<TimestampMs> to;    // record timestamp < to
  std::chrono::milliseconds flush_timeout{60000};
};

struct BadLine {
  std::string where;  // path:line
  std::string reason;
};

struct ReplayStats {
  std::map<std::string, std::uint64_t> per_topic;  // records sent (or counted, in a dry run)
  std::uint64_t lines = 0;
  std::uint64_t sent = 0;
  std::uint64_t value_bytes = 0;
  std::uint64_t out_of_range = 0;  // left out by --from/--to
  std::uint64_t bad_lines = 0;
  std::vector<BadLine> first_bad;  // up to 20
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::string first_failure;
  std::optional<TimestampMs> first_ts, last_ts;  // of the records sent or counted
  bool interrupted = false;
  double seconds = 0.0;
};

// Time as the replayer sees it, so pacing can be tested without waiting.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_until(std::chrono::steady_clock::time_point t) = 0;
  virtual TimestampMs wall_ms() = 0;
};
Clock& system_clock();

// Progress callback: records sent so far and bytes of the inputs consumed so far.
using ProgressFn = std::function<void(std::uint64_t records, std::uint64_t bytes)>;

// Reads the inputs in order and sends each record to `producer` (nullptr: dry run, only
// counts and validates). Pacing: a record is sent no earlier than both
//   start + (ts - first_ts) / speed       (speed > 0)  and   start + n / rate   (rate > 0).
// Returns an error only for what stops the run (unreadable file, produce refused); records
// that were not delivered and bad lines are in the stats for the caller to judge.
// Lifecycle: one call per run, on one thread; `stop` may be set from a signal handler.
Status run_replay(const ReplayOptions& options, io::Producer* producer, Clock& clock, const std::atomic<bool>& stop,
                  const ProgressFn& progress, ReplayStats& stats);

// The human summary printed at the end (per-topic counts, rates, what went wrong).
std::string format_summary(const ReplayStats& stats, bool dry_run);

}  // namespace vigil::replay
