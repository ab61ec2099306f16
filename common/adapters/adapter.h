#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/adapters/event.h"

namespace vigil {

// Outcome of parsing one record. `reason` is a short machine-readable DLQ reason
// (invalid_json, invalid_utf8, too_large, too_deep, missing_field, wrong_type), `detail`
// says exactly which field and what was wrong.
struct [[nodiscard]] ParseStatus {
  enum class Kind { kOk, kSkip, kError };
  Kind kind = Kind::kOk;
  std::string_view reason;
  std::string detail;

  static ParseStatus ok() { return {}; }
  // The record is well-formed but carries nothing to analyse (e.g. a Telegram callback query).
  static ParseStatus skip(std::string detail) { return {Kind::kSkip, "skipped", std::move(detail)}; }
  static ParseStatus error(std::string_view reason, std::string detail) {
    return {Kind::kError, reason, std::move(detail)};
  }
  bool is_ok() const { return kind == Kind::kOk; }
};

struct AdapterLimits {
  std::size_t max_record_bytes = 1 << 20;
  std::size_t max_json_depth = 64;
};

// Turns one platform's JSON record into an Event. Implementations own a simdjson On-Demand
// parser and a padded input buffer that they reuse, so parsing allocates only for the Event.
// Lifecycle: created once per processing thread; not thread-safe (one parse at a time).
class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string_view name() const = 0;

  // Fills `out` (everything but out.source is overwritten) from `payload`.
  // On error `out` is unspecified and the status says why.
  virtual ParseStatus parse(std::string_view payload, Event& out) = 0;
};

// facebook, tiktok, telegram, zalo, report or canonical; nullptr for any other name.
std::unique_ptr<Adapter> make_adapter(std::string_view name, AdapterLimits limits = {});

}  // namespace vigil
