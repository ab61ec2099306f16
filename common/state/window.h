#pragma once

#include <cstdint>
#include <vector>

#include "common/core/time.h"
#include "common/state/codec.h"
#include "common/state/distinct.h"

namespace vigil::state {

// Event-time hopping windows: [start, start + size) for every start that is a multiple of
// `advance`. advance == size gives tumbling windows. A window stays open until stream time
// (the highest event time seen on the partition) passes its end plus `grace`; records that
// only fall into closed windows are late and are not counted.
struct WindowSpec {
  TimestampMs size = 3'600'000;
  TimestampMs advance = 3'600'000;
  TimestampMs grace = 0;

  // Starts of the windows containing `t`, oldest first.
  void starts_containing(TimestampMs t, std::vector<TimestampMs>& out) const;
  bool closed(TimestampMs start, TimestampMs stream_time) const { return start + size + grace <= stream_time; }
};

// What a window counted, and what was last reported about it.
struct WindowCount {
  TimestampMs start = 0;
  std::uint64_t posts = 0;
  DistinctCounter distinct{DistinctCounter::kDefaultExactLimit};
  // The count carried by the last flag or update for this window; 0 while never flagged.
  std::uint64_t reported = 0;
};

// The open windows of one (rule, entity). Value type; not thread-safe.
class WindowedCounts {
 public:
  // The window starting at `start`, created when missing (kept sorted by start).
  WindowCount& window(TimestampMs start);
  // Forgets windows closed at `stream_time`.
  void prune(const WindowSpec& spec, TimestampMs stream_time);
  const std::vector<WindowCount>& windows() const { return windows_; }
  bool empty() const { return windows_.empty(); }
  // When the last window closes: the state's expiry time.
  TimestampMs closes_at(const WindowSpec& spec) const;

  void encode(Encoder& out) const;
  bool decode(Decoder& in);

 private:
  std::vector<WindowCount> windows_;
};

}  // namespace vigil::state
