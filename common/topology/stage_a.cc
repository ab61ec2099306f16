#include "common/topology/stage_a.h"

#include <algorithm>

namespace vigil::topology {

StageA::StageA(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, Clock clock)
    : config_(config), detector_(std::move(pack)), clock_(std::move(clock)) {
  const AdapterLimits limits{config.max_record_bytes, config.max_json_depth};
  for (const auto& input : config.inputs) {
    adapters_.emplace(input.topic, make_adapter(input.adapter, limits));
  }
}

void StageA::dead_letter(const io::Record& in, std::string_view reason, const std::string& detail,
                         std::vector<io::Record>& out, Stats& stats) {
  append_dead_letter(in, config_.dlq_topic, reason, detail, clock_(), out, stats);
}

void StageA::observe(std::vector<io::Record>& out, Stats& stats) {
  Observation& o = observation_;
  o.clear();
  o.event_id = event_.event_id;
  o.platform = event_.platform;
  o.kind = event_.kind;
  o.author = event_.author;
  o.permalink = event_.permalink;
  o.event_time = event_.event_time;
  o.topic = event_.source.topic;
  o.partition = event_.source.partition;
  o.offset = event_.source.offset;
  for (const auto& f : findings_) o.flagged.push_back(f.category);
  observed_.clear();
  ring_keys_.clear();
  const auto& rings = detector_.pack().rings;
  // Ring members: the eligible entities of this event, hubs left out, the citizen who sent a
  // tip too (a reporter is not part of what they report).
  const auto ring_member = [&](extract::EntityType type, const std::string& value) {
    if (!rings.enabled || std::find(rings.types.begin(), rings.types.end(), type) == rings.types.end()) return false;
    if (type == extract::EntityType::kDomain &&
        (detector_.pack().never_lookalike.count(value) > 0 ||
         std::find(rings.hubs.begin(), rings.hubs.end(), value) != rings.hubs.end()))
      return false;
    return !(type == extract::EntityType::kAccount && value == event_.author && event_.kind == "report");
  };
  const auto consider = [&](extract::EntityType type, const std::string& value) {
    if (!ring_member(type, value) || ring_keys_.size() >= rings.max_links) return;
    std::string key = observation_key(extract::entity_type_name(type), value);
    if (std::find(ring_keys_.begin(), ring_keys_.end(), key) == ring_keys_.end()) ring_keys_.push_back(std::move(key));
  };
  for (const auto& e : detector_.entities()) consider(e.type, e.value);
  if (!event_.author.empty()) consider(extract::EntityType::kAccount, event_.author);

  const auto emit = [&](extract::EntityType t, const std::string& value, const std::string& qualifier) {
    const std::string_view type = extract::entity_type_name(t);
    std::string key = observation_key(type, value);
    if (std::find(observed_.begin(), observed_.end(), key) != observed_.end()) return;
    o.type.assign(type);
    o.value = value;
    o.qualifier = qualifier;
    o.brand.clear();
    if (t == extract::EntityType::kDomain) {
      for (const auto& l : detector_.lookalikes()) {
        if (l.domain == value) o.brand = l.brand;
      }
    }
    o.links.clear();
    if (std::find(ring_keys_.begin(), ring_keys_.end(), key) != ring_keys_.end()) {
      for (const auto& k : ring_keys_) {
        if (k != key) o.links.push_back(k);
      }
    }
    io::Record& r = out.emplace_back();
    r.topic = config_.state.observations_topic;
    r.key = key;
    r.value.emplace();
    encode_observation(o, *r.value);
    // Wall clock for the topic's retention, as for flags; the event time is in the value.
    r.timestamp = clock_();
    observed_.push_back(std::move(key));
    ++stats.observations;
  };
  for (const auto& e : detector_.entities()) emit(e.type, e.value, e.qualifier);
  if (!event_.author.empty()) emit(extract::EntityType::kAccount, event_.author, event_.platform);
}

Status StageA::process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) {
  ++stats.records;
  if (auto it = stats.records_by_topic.find(in.topic); it != stats.records_by_topic.end()) {
    ++it->second;
  } else {
    stats.records_by_topic.emplace(in.topic, 1);
  }
  if (!in.source_error.empty()) {
    dead_letter(in, "bad_envelope", in.source_error, out, stats);
    return Status::ok();
  }
  const auto it = adapters_.find(in.topic);
  if (it == adapters_.end() || it->second == nullptr) {
    dead_letter(in, "no_adapter", "no adapter is configured for topic '" + in.topic + "' (see inputs: in the config)",
                out, stats);
    return Status::ok();
  }
  if (!in.value) {
    dead_letter(in, "missing_value", "the record has no value (tombstone)", out, stats);
    return Status::ok();
  }

  event_.source = SourceCoordinates{in.topic, in.partition, in.offset, in.timestamp};
  const ParseStatus parsed = it->second->parse(*in.value, event_);
  if (parsed.kind == ParseStatus::Kind::kSkip) {
    ++stats.skipped;
    return Status::ok();
  }
  if (!parsed.is_ok()) {
    dead_letter(in, parsed.reason, parsed.detail, out, stats);
    return Status::ok();
  }
  ++stats.events;

  findings_.clear();
  detector_.detect(event_, findings_);
  if (config_.state.enabled) observe(out, stats);
  if (findings_.empty()) return Status::ok();
  const detect::RenderOptions options{clock_(), config_.expose_pii};
  for (const auto& finding : findings_) {
    detect::render_flag(finding, event_, detector_.pack(), options, rendered_);
    io::Record& r = out.emplace_back();
    r.topic = config_.flags_topic_prefix + rendered_.category;
    r.key = rendered_.key;
    r.value = rendered_.value;
    // detected_at, not the event time: flags of a replayed 2024 archive stamped 2024 would be
    // deleted by time-based retention as soon as they are written. The event time is in the
    // flag's source.event_time.
    r.timestamp = options.detected_at;
    r.headers = {{"category", rendered_.category}, {"severity", rendered_.severity}, {"flag_id", rendered_.flag_id}};
    ++stats.flags;
    ++stats.flags_by_category[rendered_.category];
    ++stats.flags_by_category_severity[{rendered_.category, rendered_.severity}];
    for (const auto& hit : finding.hits) {
      ++stats.rule_hits[hit.id];
      for (const auto& feed : hit.feeds) ++stats.blocklist_hits[feed];
    }
    if (in.timestamp > 0) stats.flag_record_times.push_back(in.timestamp);
    if (stats.first_flags.size() < Stats::kMaxNotes) {
      const auto heaviest = std::max_element(finding.hits.begin(), finding.hits.end(),
                                             [](const auto& a, const auto& b) { return a.weight < b.weight; });
      stats.first_flags.push_back({rendered_.severity, rendered_.category, rendered_.key, heaviest->reason_en,
                                   in.topic + "/" + std::to_string(in.partition) + "@" + std::to_string(in.offset)});
    }
  }
  return Status::ok();
}

}  // namespace vigil::topology
