#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"
#include "services/tail/flag.h"

namespace vigil::tail {

// `--entity [TYPE:]VALUE`. TYPE is taken only when it is one of the entity types of
// docs/flags.md, so "telegram:50******12" (an account value with a colon) is a VALUE.
struct EntityFilter {
  std::string type;  // empty: any type
  std::string value;
};

Result<EntityFilter> parse_entity_filter(std::string_view text);

// What an analyst asked to see. Different kinds of condition combine with AND; the values
// of a repeated option (several --category, --entity or --rule) with OR.
struct Filter {
  std::vector<std::string> categories;
  std::optional<std::string> subtype;  // flags without a subtype never match
  std::optional<Severity> min_severity;
  std::vector<EntityFilter> entities;
  std::vector<std::string> rules;
  // Flags detected earlier than this are left out (detected_at; the record timestamp when
  // the value has none). Kafka reads also start here, but records are not strictly ordered
  // by time within a partition, so it is checked on every flag.
  std::optional<TimestampMs> since;

  // `record_timestamp` is the Kafka/envelope timestamp, or nullopt (plain JSON lines).
  bool matches(const FlagView& flag, std::optional<TimestampMs> record_timestamp) const;
};

bool entity_matches(const EntityFilter& filter, const Entity& entity);

}  // namespace vigil::tail
