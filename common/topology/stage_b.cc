#include "common/topology/stage_b.h"

#include <algorithm>

#include "common/core/hash.h"
#include "common/core/json_writer.h"
#include "common/detect/detector.h"
#include "common/extract/extract.h"
#include "common/state/codec.h"
#include "common/state/distinct.h"

namespace vigil::topology {
namespace {

constexpr std::string_view kFirstSeen = "first_seen";
constexpr std::string_view kWindows = "windows";
constexpr std::string_view kSuppress = "suppress";
constexpr std::string_view kMeta = "meta";
constexpr std::string_view kStreamTimeKey = "stream_time";

// Changelog keys: "<store>/<key>". Store names have no '/', keys may.
std::string changelog_key(std::string_view store, std::string_view key) {
  std::string k(store);
  k.push_back('/');
  k.append(key);
  return k;
}

std::string fill(std::string text, std::uint64_t count, std::uint64_t threshold, TimestampMs window) {
  const std::pair<std::string_view, std::string> vars[] = {
      {"{count}", std::to_string(count)},
      {"{threshold}", std::to_string(threshold)},
      {"{window}", detect::format_duration(window)},
  };
  for (const auto& [name, value] : vars) {
    for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size()))
      text.replace(at, name.size(), value);
  }
  return text;
}

std::string_view qualifier_field(extract::EntityType t) {
  switch (t) {
    case extract::EntityType::kBankAccount: return "bank";
    case extract::EntityType::kCitizenId: return "id_kind";
    default: return "platform";
  }
}

}  // namespace

StageB::StageB(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, state::Store& store,
               Restorer* restorer, Clock clock, RestoreObserver* observer)
    : config_(config),
      pack_(std::move(pack)),
      store_(store),
      restorer_(restorer),
      clock_(std::move(clock)),
      observer_(observer) {}

void StageB::dead_letter(const io::Record& in, std::string_view reason, const std::string& detail,
                         std::vector<io::Record>& out, Stats& stats) {
  io::Record& r = out.emplace_back();
  r.topic = config_.dlq_topic;
  r.key = in.key;
  r.value = in.value;
  r.timestamp = clock_();
  r.headers = in.headers;
  r.headers.push_back({"vigil.dlq.reason", std::string(reason)});
  r.headers.push_back({"vigil.dlq.detail", detail});
  r.headers.push_back({"vigil.source.topic", in.topic});
  r.headers.push_back({"vigil.source.partition", std::to_string(in.partition)});
  r.headers.push_back({"vigil.source.offset", std::to_string(in.offset)});
  r.headers.push_back({"vigil.source.timestamp", std::to_string(in.timestamp)});
  ++stats.dead_letters_by_reason[std::string(reason)];
}

Status StageB::put(std::string_view store, std::int32_t partition, const std::string& key, std::string_view value,
                   TimestampMs expire_at) {
  VIGIL_RETURN_IF_ERROR(store_.put(store, partition, key, value, expire_at));
  dirty_.emplace(std::string(store), partition, key);
  return Status::ok();
}

Status StageB::erase(std::string_view store, std::int32_t partition, const std::string& key) {
  VIGIL_RETURN_IF_ERROR(store_.erase(store, partition, key));
  dirty_.emplace(std::string(store), partition, key);
  return Status::ok();
}

void StageB::drain_bad_changelog(std::vector<io::Record>& out, Stats& stats) {
  if (restorer_ == nullptr) return;
  for (const auto& r : restorer_->take_bad()) {
    // Not something a stage B wrote: park it where people look; the rest was restored.
    dead_letter(r, "bad_changelog",
                "changelog record is not '<store>/<key>' with a stored value (stores: first_seen, windows, "
                "suppress, meta)",
                out, stats);
  }
}

Status StageB::finish_restore(const Restored& r, Stats& stats) {
  restoring_.erase(r.partition);
  if (!r.status.is_ok()) return r.status;
  stats.restored += r.records;
  partitions_.emplace(r.partition, PartitionState{});
  if (observer_ != nullptr) {
    observer_->on_restored(r);
    observer_->on_restoring(restoring_.size());
  }
  return Status::ok();
}

void StageB::assigned(const std::vector<std::int32_t>& partitions) {
  if (restorer_ == nullptr) return;
  for (const auto p : partitions) {
    partitions_.erase(p);
    restoring_.insert(p);
    restorer_->start(p);
  }
  if (observer_ != nullptr) observer_->on_restoring(restoring_.size());
}

Status StageB::take_restored(std::vector<std::int32_t>& finished) {
  if (restorer_ == nullptr) return Status::ok();
  for (const auto& r : restorer_->take_done()) {
    if (restoring_.count(r.partition) == 0) continue;  // revoked meanwhile
    VIGIL_RETURN_IF_ERROR(finish_restore(r, restored_stats_));
    finished.push_back(r.partition);
  }
  return Status::ok();
}

Status StageB::ensure_partition(std::int32_t partition, std::vector<io::Record>& out, Stats& stats,
                                PartitionState*& state) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) {
    if (restorer_ != nullptr) {
      // Not announced, or its records came before the restore finished: wait for it here.
      restoring_.insert(partition);
      VIGIL_RETURN_IF_ERROR(finish_restore(restorer_->wait(partition), stats));
      drain_bad_changelog(out, stats);
    }
    it = partitions_.try_emplace(partition).first;
  }
  if (!it->second.known) {
    auto got = store_.get(kMeta, partition, kStreamTimeKey);
    if (!got.is_ok()) return got.status();
    it->second.stream_time = 0;
    if (got.value()) {
      state::Decoder in(got.value()->value);
      std::int64_t t = 0;
      if (in.signed_varint(t)) {
        it->second.stream_time = t;
      } else {
        ++stats.corrupt_state;
      }
    }
    it->second.known = true;
    store_.set_stream_time(partition, it->second.stream_time);
  }
  state = &it->second;
  return Status::ok();
}

Status StageB::update_first_seen(std::int32_t partition, const std::string& key, TimestampMs& first_seen) {
  const TimestampMs t = obs_.event_time;
  auto got = store_.get(kFirstSeen, partition, key);
  if (!got.is_ok()) return got.status();
  TimestampMs first = t;
  TimestampMs last = t;
  if (got.value()) {
    state::Decoder in(got.value()->value);
    std::int64_t f = 0;
    std::int64_t l = 0;
    if (in.signed_varint(f) && in.signed_varint(l)) {
      first = std::min(f, t);
      last = std::max(l, t);
      if (first == f && last == l) {
        first_seen = first;
        return Status::ok();
      }
    }
  }
  first_seen = first;
  buffer_.clear();
  state::Encoder(buffer_).signed_varint(first).signed_varint(last);
  return put(kFirstSeen, partition, key, buffer_, last + pack_->state.first_seen_retention);
}

Status StageB::process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) {
  ++stats.records;
  ++stats.records_by_topic[in.topic];
  if (!in.value) {
    dead_letter(in, "missing_value", "the observation has no value (tombstone)", out, stats);
    return Status::ok();
  }
  if (const Status st = parser_.parse(*in.value, obs_); !st.is_ok()) {
    dead_letter(in, "bad_observation", st.message(), out, stats);
    return Status::ok();
  }
  const auto type = extract::entity_type_from_name(obs_.type);
  if (!type) {
    dead_letter(in, "bad_observation", "unknown entity type '" + obs_.type + "'", out, stats);
    return Status::ok();
  }
  ++stats.events;
  const std::int32_t partition = std::max(in.partition, 0);
  PartitionState* ps = nullptr;
  VIGIL_RETURN_IF_ERROR(ensure_partition(partition, out, stats, ps));
  if (obs_.event_time > ps->stream_time) {
    ps->stream_time = obs_.event_time;
    stream_time_dirty_.insert(partition);
  }
  const std::string key = observation_key(obs_.type, obs_.value);
  TimestampMs first_seen = 0;
  VIGIL_RETURN_IF_ERROR(update_first_seen(partition, key, first_seen));

  for (const auto& rule : pack_->stateful_rules) {
    if (std::find(rule.entities.begin(), rule.entities.end(), *type) == rule.entities.end()) continue;
    if (!rule.when_flagged.empty() &&
        std::none_of(rule.when_flagged.begin(), rule.when_flagged.end(), [&](const auto& c) {
          return std::find(obs_.flagged.begin(), obs_.flagged.end(), c) != obs_.flagged.end();
        }))
      continue;
    if (rule.when_lookalike && obs_.brand.empty()) continue;
    if (rule.measure == detect::StatefulMeasure::kDistinctReporters && obs_.kind != "report") continue;
    if (rule.measure == detect::StatefulMeasure::kFirstSeen) {
      VIGIL_RETURN_IF_ERROR(apply_first_seen(rule, partition, key, first_seen, out, stats, in));
    } else {
      VIGIL_RETURN_IF_ERROR(apply_windows(rule, partition, key, ps->stream_time, out, stats, in));
    }
  }
  return Status::ok();
}

Status StageB::apply_first_seen(const detect::StatefulRule& rule, std::int32_t partition, const std::string& key,
                                TimestampMs first_seen, std::vector<io::Record>& out, Stats& stats,
                                const io::Record& in) {
  if (obs_.event_time - first_seen >= rule.window) return Status::ok();
  const std::string skey = rule.id + "|" + key;
  auto got = store_.get(kSuppress, partition, skey);
  if (!got.is_ok()) return got.status();
  if (got.value()) return Status::ok();  // flagged once already
  const std::string flag_id = "fl_" + hex64(Fnv1a64().field("stateful").field(rule.id).field(key).value());
  emit(rule, flag_id, false, first_seen, first_seen + rule.window, 1, out, stats, in);
  return put(kSuppress, partition, skey, flag_id, first_seen + rule.window + pack_->state.grace);
}

Status StageB::apply_windows(const detect::StatefulRule& rule, std::int32_t partition, const std::string& key,
                             TimestampMs stream_time, std::vector<io::Record>& out, Stats& stats,
                             const io::Record& in) {
  const std::string skey = rule.id + "|" + key;
  const state::WindowSpec spec{rule.window, rule.advance, pack_->state.grace};
  auto got = store_.get(kWindows, partition, skey);
  if (!got.is_ok()) return got.status();
  state::WindowedCounts counts;
  if (got.value()) {
    state::Decoder in_state(got.value()->value);
    if (!counts.decode(in_state)) {
      ++stats.corrupt_state;
      counts = state::WindowedCounts();
    }
  }
  const std::size_t before = counts.windows().size();
  counts.prune(spec, stream_time);
  bool changed = counts.windows().size() != before;
  bool open = false;
  spec.starts_containing(obs_.event_time, starts_);
  for (const TimestampMs start : starts_) {
    if (spec.closed(start, stream_time)) continue;
    open = true;
    state::WindowCount& w = counts.window(start);
    bool grew = false;
    if (rule.measure == detect::StatefulMeasure::kPosts) {
      ++w.posts;
      grew = true;
    } else if (!obs_.author.empty()) {
      grew = w.distinct.add(state::id_of(obs_.author));
    }
    if (!grew) continue;
    changed = true;
    const std::uint64_t count = rule.measure == detect::StatefulMeasure::kPosts ? w.posts : w.distinct.count();
    const bool first = w.reported == 0 && count >= rule.threshold;
    const bool doubled = w.reported > 0 && count >= 2 * w.reported;
    if (!first && !doubled) continue;
    w.reported = count;
    const std::string flag_id =
        "fl_" + hex64(Fnv1a64().field("stateful").field(rule.id).field(key).field(std::to_string(start)).value());
    emit(rule, flag_id, doubled, start, start + spec.size, count, out, stats, in);
  }
  if (!open) ++stats.late;
  if (!changed) return Status::ok();
  if (counts.empty()) return erase(kWindows, partition, skey);
  buffer_.clear();
  state::Encoder enc(buffer_);
  counts.encode(enc);
  return put(kWindows, partition, skey, buffer_, counts.closes_at(spec));
}

void StageB::emit(const detect::StatefulRule& rule, const std::string& flag_id, bool update, TimestampMs window_start,
                  TimestampMs window_end, std::uint64_t count, std::vector<io::Record>& out, Stats& stats,
                  const io::Record& in) {
  const auto type = *extract::entity_type_from_name(obs_.type);
  const bool personal = extract::is_personal(type);
  const std::string severity(detect::severity_for(rule.score, pack_->severity));
  const TimestampMs now = clock_();
  io::Record& r = out.emplace_back();
  r.topic = config_.flags_topic_prefix + rule.category;
  r.key = personal ? extract::mask(type, obs_.value) : obs_.value;
  r.timestamp = now;
  r.headers = {{"category", rule.category}, {"severity", severity}, {"flag_id", flag_id}};
  if (update) r.headers.push_back({"kind", "update"});
  r.value.emplace();
  JsonWriter w(*r.value);
  w.begin_object().field("flag_id", flag_id).field("kind", update ? "update" : "flag").field("category", rule.category);
  if (!rule.subtype.empty()) w.field("subtype", rule.subtype);
  w.field("severity", severity).field("score", rule.score).field("rule_pack", pack_->qualified_version());
  w.key("rules").begin_array().begin_object().field("id", rule.id);
  w.field("reason_en", fill(rule.reason_en, count, rule.threshold, rule.window));
  w.field("reason_vi", fill(rule.reason_vi, count, rule.threshold, rule.window));
  w.field("weight", rule.score).end_object().end_array();
  // The same breakdown as stage A's flags (docs/flags.md): one signal, the stateful rule.
  const detect::Category* category = pack_->category(rule.category);
  w.key("score_breakdown").begin_object().key("signals").begin_array();
  w.begin_object().field("rule", rule.id).field("weight", rule.score).end_object().end_array();
  w.key("counter_signals").begin_array().end_array();
  w.field("raw_sum", rule.score).field("min", 0).field("max", 100).field("score", rule.score);
  w.field("threshold", category != nullptr ? category->threshold : 0).end_object();

  w.key("entities").begin_array().begin_object().field("type", obs_.type);
  if (personal) {
    w.field("masked", extract::mask(type, obs_.value));
    if (config_.expose_pii) w.field("value", obs_.value);
  } else {
    w.field("value", obs_.value);
  }
  if (!obs_.brand.empty()) w.field("brand", obs_.brand);
  if (!obs_.qualifier.empty()) w.field(qualifier_field(type), obs_.qualifier);
  w.field("primary", true).end_object().end_array();

  const std::string_view measure = detect::measure_name(rule.measure);
  w.key("evidence").begin_array().begin_object().field("rule", rule.id).field("measure", measure);
  w.field("count", static_cast<std::int64_t>(count));
  if (rule.measure != detect::StatefulMeasure::kFirstSeen)
    w.field("threshold", static_cast<std::int64_t>(rule.threshold));
  w.field("window", detect::format_duration(rule.window)).end_object().end_array();
  w.key("window").begin_object().field("start", format_iso8601(window_start)).field("end", format_iso8601(window_end));
  w.end_object();
  w.key("counts").begin_object().field(measure, static_cast<std::int64_t>(count)).end_object();

  w.key("source").begin_object().field("platform", obs_.platform).field("topic", obs_.topic);
  w.field("partition", static_cast<std::int64_t>(obs_.partition)).field("offset", obs_.offset);
  w.field("event_id", obs_.event_id).field("kind", obs_.kind).key("author");
  if (obs_.author.empty()) {
    w.null();
  } else {
    w.value(extract::mask(obs_.author));
  }
  w.key("permalink");
  if (obs_.permalink.empty()) {
    w.null();
  } else {
    w.value(obs_.permalink);
  }
  w.field("event_time", format_iso8601(obs_.event_time)).end_object();
  w.field("detected_at", format_iso8601(now)).end_object();

  if (update) {
    ++stats.updates;
    return;
  }
  ++stats.flags;
  ++stats.flags_by_category[rule.category];
  ++stats.flags_by_category_severity[{rule.category, severity}];
  ++stats.rule_hits[rule.id];
  if (in.timestamp > 0) stats.flag_record_times.push_back(in.timestamp);
  if (stats.first_flags.size() < Stats::kMaxNotes) {
    stats.first_flags.push_back(
        {severity, rule.category, *r.key, fill(rule.reason_en, count, rule.threshold, rule.window),
         obs_.topic + "/" + std::to_string(obs_.partition) + "@" + std::to_string(obs_.offset)});
  }
}

Status StageB::finish_batch(std::vector<io::Record>& out, Stats& stats) {
  drain_bad_changelog(out, stats);
  stats.restored += std::exchange(restored_stats_.restored, 0);
  for (const auto partition : stream_time_dirty_) {
    buffer_.clear();
    state::Encoder(buffer_).signed_varint(partitions_[partition].stream_time);
    VIGIL_RETURN_IF_ERROR(put(kMeta, partition, std::string(kStreamTimeKey), buffer_, 0));
  }
  stream_time_dirty_.clear();
  if (restorer_ != nullptr) {
    const TimestampMs now = clock_();
    for (const auto& [store, partition, key] : dirty_) {
      auto raw = store_.raw(store, partition, key);
      if (!raw.is_ok()) return raw.status();
      io::Record& r = out.emplace_back();
      r.topic = config_.state.changelog_topic;
      r.partition = partition;
      r.key = changelog_key(store, key);
      r.value = std::move(raw.value());
      r.timestamp = now;
    }
  }
  dirty_.clear();
  return Status::ok();
}

Status StageB::committed(const std::vector<io::TopicPartitionOffset>& delivered) {
  std::vector<state::Checkpoint> checkpoints;
  for (const auto& d : delivered) {
    if (d.topic == config_.state.changelog_topic) checkpoints.push_back({d.partition, d.offset});
  }
  VIGIL_RETURN_IF_ERROR(store_.commit(checkpoints));
  for (const auto& [partition, ps] : partitions_) store_.set_stream_time(partition, ps.stream_time);
  return Status::ok();
}

void StageB::aborted() {
  store_.discard();
  dirty_.clear();
  stream_time_dirty_.clear();
  for (auto& [partition, ps] : partitions_) ps.known = false;  // reloaded from the committed state
}

void StageB::revoked(const std::vector<std::int32_t>& partitions) {
  for (const auto p : partitions) {
    partitions_.erase(p);
    restoring_.erase(p);
    if (restorer_ != nullptr) restorer_->cancel(p);
  }
  if (observer_ != nullptr) observer_->on_restoring(restoring_.size());
}

}  // namespace vigil::topology
