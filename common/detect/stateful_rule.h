#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/time.h"
#include "common/extract/extract.h"

namespace vigil::detect {

// What a stateful rule counts about one entity (stage B, docs/state.md).
enum class StatefulMeasure {
  kFirstSeen,          // fires when a matching observation comes < `window` after the entity's first sighting
  kPosts,              // matching observations in a window
  kDistinctAuthors,    // distinct authors of matching observations in a window
  kDistinctReporters,  // distinct citizens reporting the entity in a window (report events only)
};

std::string_view measure_name(StatefulMeasure m);

// A rule over entity state: "a domain posted by >= 5 distinct accounts within 1 h". Stage B
// evaluates it on every observation of an entity of one of `entities`; the same (rule,
// entity, window) flags once, later growth goes out as `update` records.
struct StatefulRule {
  std::string id;
  std::string category;
  std::string subtype;
  std::string reason_en;  // "{count}", "{threshold}" and "{window}" are filled in
  std::string reason_vi;
  std::vector<extract::EntityType> entities;
  StatefulMeasure measure = StatefulMeasure::kPosts;
  // Which observations count: from events that got a content flag of one of these
  // categories (empty: any event), and for domains, only those imitating a brand.
  std::vector<std::string> when_flagged;
  bool when_lookalike = false;
  std::uint64_t threshold = 1;
  TimestampMs window = 0;
  TimestampMs advance = 0;  // hop of the windows; == window: tumbling
  int score = 0;            // the flag's score, 1..100 (severity from the pack's bands)
};

// Event-time settings of all stateful rules of a pack.
struct StateSettings {
  TimestampMs grace = 10 * 60'000;                       // how late an observation may be and still count
  TimestampMs first_seen_retention = 30 * 86'400'000LL;  // how long first-seen times are kept after the last sighting
};

// "90s", "15m", "24h", "7d", "500ms" → milliseconds; nullopt for anything else.
std::optional<TimestampMs> parse_duration(std::string_view text);
// The shortest exact form: 86400000 → "1d", 5400000 → "90m".
std::string format_duration(TimestampMs ms);

}  // namespace vigil::detect
