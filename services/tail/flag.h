#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"

namespace vigil::tail {

// Flag severities in rising order, so that `>=` means "at least as severe".
enum class Severity { kLow = 0, kMedium = 1, kHigh = 2, kCritical = 3 };

std::optional<Severity> parse_severity(std::string_view text);
std::string_view severity_name(Severity severity);

struct Entity {
  std::string type;
  std::string value;   // canonical form (domains, URLs; personal values only with expose_pii)
  std::string masked;  // personal values
  bool primary = false;
};

// The parts of a flag record value (docs/flags.md) that vigil-tail filters on and shows.
// Everything else stays in the raw JSON, which is what JSON output prints.
struct FlagView {
  std::string flag_id;
  std::string category;
  std::optional<std::string> subtype;
  Severity severity = Severity::kLow;
  std::vector<std::string> rule_ids;
  std::string reason;  // reason_en of the first rule
  std::vector<Entity> entities;
  std::string platform;
  std::string source_topic;
  std::int64_t source_partition = -1;
  std::int64_t source_offset = -1;
  std::string permalink;  // empty when null
  std::string event_time;
  std::string detected_at;
  std::optional<TimestampMs> detected_at_ms;

  // The primary entity (or the first one when none is marked), nullptr without entities.
  const Entity* main_entity() const;
};

// Parses flag JSON values. A value that is not a JSON object, or lacks flag_id, category or a
// known severity, is an error whose message says what is wrong; unknown fields are ignored so
// that newer detectors' flags still read.
// Lifecycle: one parser per thread (it reuses a simdjson parser and buffer).
class FlagParser {
 public:
  FlagParser();
  ~FlagParser();
  FlagParser(const FlagParser&) = delete;
  FlagParser& operator=(const FlagParser&) = delete;

  [[nodiscard]] Status parse(std::string_view json, FlagView& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::tail
