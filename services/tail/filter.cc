#include "services/tail/filter.h"

#include <algorithm>
#include <array>

namespace vigil::tail {
namespace {

constexpr std::array<std::string_view, 8> kEntityTypes = {"domain",     "url",          "phone",  "email",
                                                          "citizen_id", "bank_account", "handle", "account"};

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

template <typename T>
bool contains(const std::vector<T>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

Result<EntityFilter> parse_entity_filter(std::string_view text) {
  EntityFilter f;
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    const std::string_view type = text.substr(0, colon);
    if (std::find(kEntityTypes.begin(), kEntityTypes.end(), type) != kEntityTypes.end()) {
      f.type = type;
      text.remove_prefix(colon + 1);
    }
  }
  if (text.empty()) return invalid_argument("--entity needs a value: [TYPE:]VALUE, e.g. domain:vietcombamk.com.vn");
  f.value = text;
  return f;
}

bool entity_matches(const EntityFilter& filter, const Entity& entity) {
  if (!filter.type.empty() && filter.type != entity.type) return false;
  // Domain names are case-insensitive; the detector writes them lower-case, analysts may not.
  const bool fold = entity.type == "domain";
  for (const std::string* form : {&entity.value, &entity.masked}) {
    if (form->empty()) continue;
    if (fold ? equals_ignoring_ascii_case(*form, filter.value) : *form == filter.value) return true;
  }
  return false;
}

bool Filter::matches(const FlagView& flag, std::optional<TimestampMs> record_timestamp) const {
  if (!categories.empty() && !contains(categories, flag.category)) return false;
  if (subtype && flag.subtype != subtype) return false;
  if (min_severity && flag.severity < *min_severity) return false;
  if (!rules.empty() && std::none_of(flag.rule_ids.begin(), flag.rule_ids.end(),
                                     [&](const std::string& id) { return contains(rules, id); })) {
    return false;
  }
  if (!entities.empty()) {
    const bool any = std::any_of(entities.begin(), entities.end(), [&](const EntityFilter& f) {
      return std::any_of(flag.entities.begin(), flag.entities.end(),
                         [&](const Entity& e) { return entity_matches(f, e); });
    });
    if (!any) return false;
  }
  if (since) {
    const std::optional<TimestampMs> when = flag.detected_at_ms ? flag.detected_at_ms : record_timestamp;
    // A flag whose time cannot be known cannot be shown to be recent enough.
    if (!when || *when < *since) return false;
  }
  return true;
}

}  // namespace vigil::tail
