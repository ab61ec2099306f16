#include "common/topology/stage_a.h"

#include <algorithm>

namespace vigil::topology {

std::size_t Stats::dead_letters() const {
  std::size_t n = 0;
  for (const auto& [reason, count] : dead_letters_by_reason) n += count;
  return n;
}

void Stats::merge(const Stats& o) {
  records += o.records;
  for (const auto& [k, v] : o.records_by_topic) records_by_topic[k] += v;
  events += o.events;
  skipped += o.skipped;
  flags += o.flags;
  for (const auto& [k, v] : o.flags_by_category) flags_by_category[k] += v;
  for (const auto& [k, v] : o.flags_by_category_severity) flags_by_category_severity[k] += v;
  for (const auto& [k, v] : o.rule_hits) rule_hits[k] += v;
  for (const auto& [k, v] : o.blocklist_hits) blocklist_hits[k] += v;
  for (const auto& [k, v] : o.dead_letters_by_reason) dead_letters_by_reason[k] += v;
  for (const auto& note : o.first_flags) {
    if (first_flags.size() < kMaxNotes) first_flags.push_back(note);
  }
}

StageA::StageA(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, Clock clock)
    : config_(config), detector_(std::move(pack)), clock_(std::move(clock)) {
  const AdapterLimits limits{config.max_record_bytes, config.max_json_depth};
  for (const auto& input : config.inputs) {
    adapters_.emplace(input.topic, make_adapter(input.adapter, limits));
  }
}

void StageA::dead_letter(const io::Record& in, std::string_view reason, const std::string& detail,
                         std::vector<io::Record>& out, Stats& stats) {
  io::Record& r = out.emplace_back();
  r.topic = config_.dlq_topic;
  r.key = in.key;
  r.value = in.value;
  // Wall clock, not the source's time: replayed archives carry old timestamps, and a dead
  // letter stamped with one would fall to time-based retention at once. The source time is
  // kept in the vigil.source.timestamp header.
  r.timestamp = clock_();
  r.headers = in.headers;
  r.headers.push_back({std::string(kDlqReasonHeader), std::string(reason)});
  r.headers.push_back({std::string(kDlqDetailHeader), detail});
  r.headers.push_back({"vigil.source.topic", in.topic});
  r.headers.push_back({"vigil.source.partition", std::to_string(in.partition)});
  r.headers.push_back({"vigil.source.offset", std::to_string(in.offset)});
  r.headers.push_back({"vigil.source.timestamp", std::to_string(in.timestamp)});
  ++stats.dead_letters_by_reason[std::string(reason)];
}

void StageA::process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) {
  ++stats.records;
  if (auto it = stats.records_by_topic.find(in.topic); it != stats.records_by_topic.end()) {
    ++it->second;
  } else {
    stats.records_by_topic.emplace(in.topic, 1);
  }
  if (!in.source_error.empty()) return dead_letter(in, "bad_envelope", in.source_error, out, stats);
  const auto it = adapters_.find(in.topic);
  if (it == adapters_.end() || it->second == nullptr) {
    return dead_letter(in, "no_adapter",
                       "no adapter is configured for topic '" + in.topic + "' (see inputs: in the config)", out, stats);
  }
  if (!in.value) return dead_letter(in, "missing_value", "the record has no value (tombstone)", out, stats);

  event_.source = SourceCoordinates{in.topic, in.partition, in.offset, in.timestamp};
  const ParseStatus parsed = it->second->parse(*in.value, event_);
  if (parsed.kind == ParseStatus::Kind::kSkip) {
    ++stats.skipped;
    return;
  }
  if (!parsed.is_ok()) return dead_letter(in, parsed.reason, parsed.detail, out, stats);
  ++stats.events;

  findings_.clear();
  detector_.detect(event_, findings_);
  if (findings_.empty()) return;
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
}

}  // namespace vigil::topology
