#include "common/detect/flag.h"

#include "common/core/hash.h"
#include "common/core/json_writer.h"

namespace vigil::detect {
namespace {

std::string display_value(const FlagEntity& e) {
  return extract::mask(e.type, e.value);
}

// What the qualifier of an entity means, per type.
std::string_view qualifier_field(extract::EntityType t) {
  switch (t) {
    case extract::EntityType::kBankAccount: return "bank";
    case extract::EntityType::kCitizenId: return "id_kind";
    default: return "platform";
  }
}

}  // namespace

std::string flag_id_for(const Finding& finding, const Event& event) {
  Fnv1a64 h;
  h.field(finding.category);
  if (!finding.entities.empty()) {
    h.field(extract::entity_type_name(finding.entities.front().type)).field(finding.entities.front().value);
  }
  h.field(event.event_id);
  return "fl_" + hex64(h.value());
}

void render_flag(const Finding& finding, const Event& event, const RulePack& pack, const RenderOptions& options,
                 RenderedFlag& out) {
  out.flag_id = flag_id_for(finding, event);
  out.category = finding.category;
  out.severity = std::string(severity_for(finding.score, pack.severity));
  out.key = finding.entities.empty() ? event.event_id : display_value(finding.entities.front());
  out.value.clear();

  JsonWriter w(out.value);
  w.begin_object();
  w.field("flag_id", out.flag_id).field("kind", "flag").field("category", finding.category);
  if (!finding.subtype.empty()) w.field("subtype", finding.subtype);
  w.field("severity", out.severity).field("score", finding.score).field("rule_pack", pack.qualified_version());

  w.key("rules").begin_array();
  for (const auto& h : finding.hits) {
    w.begin_object().field("id", h.id).field("reason_en", h.reason_en).field("reason_vi", h.reason_vi);
    w.field("weight", h.weight);
    if (!h.feeds.empty()) {
      w.key("feeds").begin_array();
      for (const auto& feed : h.feeds) w.value(feed);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();

  // Everything needed to recompute the score by hand: signals and counter-signals with their
  // weights, their sum, and the clamp.
  w.key("score_breakdown").begin_object();
  for (const bool positive : {true, false}) {
    w.key(positive ? "signals" : "counter_signals").begin_array();
    for (const auto& h : finding.hits) {
      if ((h.weight > 0) == positive) w.begin_object().field("rule", h.id).field("weight", h.weight).end_object();
    }
    w.end_array();
  }
  const Category* category = pack.category(finding.category);
  w.field("raw_sum", finding.raw_score).field("min", 0).field("max", 100).field("score", finding.score);
  w.field("threshold", category != nullptr ? category->threshold : 0);
  w.end_object();

  w.key("entities").begin_array();
  for (const auto& e : finding.entities) {
    w.begin_object().field("type", extract::entity_type_name(e.type));
    if (extract::is_personal(e.type)) {
      w.field("masked", extract::mask(e.type, e.value));
      if (options.expose_pii) w.field("value", e.value);
    } else {
      w.field("value", e.value);
    }
    if (!e.brand.empty()) w.field("brand", e.brand);
    if (!e.qualifier.empty()) w.field(qualifier_field(e.type), e.qualifier);
    if (e.primary) w.field("primary", true);
    w.end_object();
  }
  w.end_array();

  w.key("evidence").begin_array();
  for (const auto& ev : finding.evidence) {
    w.begin_object().field("rule", ev.rule).field("quote", ev.quote);
    if (ev.has_span)
      w.field("start", static_cast<std::int64_t>(ev.start)).field("end", static_cast<std::int64_t>(ev.end));
    w.end_object();
  }
  w.end_array();

  const auto& src = event.source;
  w.key("source").begin_object();
  w.field("platform", event.platform)
      .field("topic", src.topic)
      .field("partition", static_cast<std::int64_t>(src.partition));
  w.field("offset", src.offset).field("event_id", event.event_id).field("kind", event.kind);
  w.key("author");
  if (event.author.empty()) {
    w.null();
  } else {
    w.value(extract::mask(event.author));
  }
  w.key("permalink");
  if (event.permalink.empty()) {
    w.null();
  } else {
    w.value(event.permalink);
  }
  w.field("event_time", format_iso8601(event.event_time)).end_object();
  w.field("detected_at", format_iso8601(options.detected_at));
  w.end_object();
}

}  // namespace vigil::detect
