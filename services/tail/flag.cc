#include "services/tail/flag.h"

#include <simdjson.h>

#include <cstring>

namespace vigil::tail {
namespace {

namespace od = simdjson::ondemand;

Status bad(std::string what) {
  return invalid_argument("malformed flag: " + what);
}

// A string field, or empty for null; anything else is an error.
Status read_string(od::value v, std::string& out, std::string_view field) {
  bool is_null = false;
  if (v.is_null().get(is_null) != simdjson::SUCCESS) return bad(std::string(field) + " is not a string");
  if (is_null) {
    out.clear();
    return Status::ok();
  }
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return bad(std::string(field) + " is not a string");
  out.assign(s);
  return Status::ok();
}

Status read_rules(od::value v, FlagView& out) {
  od::array rules;
  if (v.get_array().get(rules) != simdjson::SUCCESS) return bad("rules is not an array");
  for (auto item : rules) {
    od::object rule;
    if (std::move(item).get_object().get(rule) != simdjson::SUCCESS) return bad("rules[] is not an object");
    for (auto fr : rule) {
      od::field f;
      std::string_view k;
      if (std::move(fr).get(f) != simdjson::SUCCESS || f.unescaped_key().get(k) != simdjson::SUCCESS) {
        return bad("rules[] is not valid JSON");
      }
      if (k == "id") {
        VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.rule_ids.emplace_back(), "rules[].id"));
      } else if (k == "reason_en" && out.reason.empty()) {
        // The first rule's reason: it is the one that fired first in the pack's order.
        VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.reason, "rules[].reason_en"));
      }
    }
  }
  return Status::ok();
}

Status read_entities(od::value v, FlagView& out) {
  od::array entities;
  if (v.get_array().get(entities) != simdjson::SUCCESS) return bad("entities is not an array");
  for (auto item : entities) {
    od::object entity;
    if (std::move(item).get_object().get(entity) != simdjson::SUCCESS) return bad("entities[] is not an object");
    Entity& e = out.entities.emplace_back();
    for (auto fr : entity) {
      od::field f;
      std::string_view k;
      if (std::move(fr).get(f) != simdjson::SUCCESS || f.unescaped_key().get(k) != simdjson::SUCCESS) {
        return bad("entities[] is not valid JSON");
      }
      if (k == "type") {
        VIGIL_RETURN_IF_ERROR(read_string(f.value(), e.type, "entities[].type"));
      } else if (k == "value") {
        VIGIL_RETURN_IF_ERROR(read_string(f.value(), e.value, "entities[].value"));
      } else if (k == "masked") {
        VIGIL_RETURN_IF_ERROR(read_string(f.value(), e.masked, "entities[].masked"));
      } else if (k == "primary") {
        if (f.value().get_bool().get(e.primary) != simdjson::SUCCESS) return bad("entities[].primary is not a boolean");
      }
    }
  }
  return Status::ok();
}

Status read_source(od::value v, FlagView& out) {
  od::object source;
  if (v.get_object().get(source) != simdjson::SUCCESS) return bad("source is not an object");
  for (auto fr : source) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) != simdjson::SUCCESS || f.unescaped_key().get(k) != simdjson::SUCCESS) {
      return bad("source is not valid JSON");
    }
    if (k == "platform") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.platform, "source.platform"));
    } else if (k == "topic") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.source_topic, "source.topic"));
    } else if (k == "partition") {
      if (f.value().get_int64().get(out.source_partition) != simdjson::SUCCESS) {
        return bad("source.partition is not an integer");
      }
    } else if (k == "offset") {
      if (f.value().get_int64().get(out.source_offset) != simdjson::SUCCESS) {
        return bad("source.offset is not an integer");
      }
    } else if (k == "permalink") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.permalink, "source.permalink"));
    } else if (k == "event_time") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.event_time, "source.event_time"));
    }
  }
  return Status::ok();
}

}  // namespace

std::optional<Severity> parse_severity(std::string_view text) {
  if (text == "low") return Severity::kLow;
  if (text == "medium") return Severity::kMedium;
  if (text == "high") return Severity::kHigh;
  if (text == "critical") return Severity::kCritical;
  return std::nullopt;
}

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "low";
}

const Entity* FlagView::main_entity() const {
  for (const auto& e : entities) {
    if (e.primary) return &e;
  }
  return entities.empty() ? nullptr : &entities.front();
}

struct FlagParser::Impl {
  od::parser parser;
  std::string buffer;
};

FlagParser::FlagParser() : impl_(std::make_unique<Impl>()) {}
FlagParser::~FlagParser() = default;

Status FlagParser::parse(std::string_view json, FlagView& out) {
  out = FlagView{};
  auto& buf = impl_->buffer;
  if (buf.size() < json.size() + simdjson::SIMDJSON_PADDING) buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf.data(), json.data(), json.size());
  od::document doc;
  if (auto e = impl_->parser.iterate(buf.data(), json.size(), buf.size()).get(doc)) {
    return bad(std::string("not JSON (") + simdjson::error_message(e) + ")");
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    return bad(std::string("not a JSON object (") + simdjson::error_message(e) + ")");
  }
  std::string severity;
  for (auto fr : obj) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) != simdjson::SUCCESS || f.unescaped_key().get(k) != simdjson::SUCCESS) {
      return bad("not valid JSON");
    }
    if (k == "flag_id") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.flag_id, "flag_id"));
    } else if (k == "category") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.category, "category"));
    } else if (k == "subtype") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.subtype.emplace(), "subtype"));
    } else if (k == "severity") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), severity, "severity"));
    } else if (k == "rules") {
      VIGIL_RETURN_IF_ERROR(read_rules(f.value(), out));
    } else if (k == "entities") {
      VIGIL_RETURN_IF_ERROR(read_entities(f.value(), out));
    } else if (k == "source") {
      VIGIL_RETURN_IF_ERROR(read_source(f.value(), out));
    } else if (k == "detected_at") {
      VIGIL_RETURN_IF_ERROR(read_string(f.value(), out.detected_at, "detected_at"));
    }
  }
  // On-Demand parses lazily: trailing garbage only shows once the whole object was walked.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) return bad("text after the JSON object");
  if (out.flag_id.empty()) return bad("flag_id is missing");
  if (out.category.empty()) return bad("category is missing");
  const auto sev = parse_severity(severity);
  if (!sev) return bad(severity.empty() ? "severity is missing" : "unknown severity '" + severity + "'");
  out.severity = *sev;
  if (!out.detected_at.empty()) out.detected_at_ms = parse_iso8601(out.detected_at);
  return Status::ok();
}

}  // namespace vigil::tail
