#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Milliseconds since the Unix epoch, UTC. Event time everywhere in Vigil uses this unit.
using TimestampMs = std::int64_t;

// Parses RFC 3339 / ISO 8601 date-times as the platforms send them:
// "2024-03-05T10:00:00+0000", "2024-04-01T00:12:20Z", "2024-04-01T00:12:20.120+07:00".
// Returns nullopt for anything else (no guessing about local time).
std::optional<TimestampMs> parse_iso8601(std::string_view text);

// Formats as "2024-04-01T00:12:20Z", or with ".120" when the milliseconds are not zero.
std::string format_iso8601(TimestampMs ms);

// Wall clock, only for fields that say when Vigil did something (detected_at), never for
// decisions: those use event time so that replays give the same answers.
TimestampMs wall_clock_ms();

}  // namespace vigil
