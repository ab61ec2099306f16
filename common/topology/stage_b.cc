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
constexpr std::string_view kRings = "rings";
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

// The same breakdown as stage A's flags (docs/flags.md), with one signal: the stateful rule.
void write_breakdown(JsonWriter& w, std::string_view rule, int score, const detect::Category* category) {
  w.key("score_breakdown").begin_object().key("signals").begin_array();
  w.begin_object().field("rule", rule).field("weight", score).end_object().end_array();
  w.key("counter_signals").begin_array().end_array();
  w.field("raw_sum", score).field("min", 0).field("max", 100).field("score", score);
  w.field("threshold", category != nullptr ? category->threshold : 0).end_object();
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
  append_dead_letter(in, config_.dlq_topic, reason, detail, clock_(), out, stats);
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

Result<std::optional<state::Stored>> StageB::get_live(std::string_view store, std::int32_t partition,
                                                      const std::string& key) {
  auto got = store_.get(store, partition, key);
  if (!got.is_ok() || !got.value()) return got;
  // Expired but not yet compacted away: absent, as it will be once RocksDB compacts, so that
  // results never depend on when compaction ran.
  const auto it = partitions_.find(partition);
  const TimestampMs now = it == partitions_.end() ? 0 : it->second.stream_time;
  if (got.value()->expire_at != 0 && got.value()->expire_at < now) return std::optional<state::Stored>();
  return got;
}

Status StageB::sweep(std::int32_t partition, TimestampMs stream_time) {
  // A few keys per store and batch, round robin: expired keys get a changelog tombstone, so
  // the compacted changelog (and a restore from it) does not grow with every entity ever seen.
  constexpr std::size_t kPerBatch = 64;
  for (const auto store : {kFirstSeen, kWindows, kSuppress, kRings}) {
    auto& cursor = sweep_cursors_[{partition, std::string(store)}];
    std::vector<std::string> expired;
    auto next = store_.scan(store, partition, cursor, kPerBatch, [&](std::string_view key, const state::Stored& v) {
      if (v.expire_at != 0 && v.expire_at < stream_time) expired.emplace_back(key);
      return true;
    });
    if (!next.is_ok()) return next.status();
    cursor = std::move(next.value());
    for (const auto& key : expired) {
      // Written again in this batch? Then it is alive: scan only sees committed values.
      auto live = get_live(store, partition, key);
      if (!live.is_ok()) return live.status();
      if (!live.value()) VIGIL_RETURN_IF_ERROR(erase(store, partition, key));
    }
  }
  return Status::ok();
}

Status StageB::update_first_seen(std::int32_t partition, const std::string& key, TimestampMs& first_seen) {
  const TimestampMs t = obs_.event_time;
  auto got = get_live(kFirstSeen, partition, key);
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
  if (!obs_.msg.empty()) {
    // A ring message from stage B itself: no sighting, so no first-seen, windows or stream time.
    if (!pack_->rings.enabled) return Status::ok();
    return ring_message(partition, observation_key(obs_.type, obs_.value), out, stats, in);
  }
  if (obs_.event_time > ps->stream_time) {
    ps->stream_time = obs_.event_time;
    stream_time_dirty_.insert(partition);
  }
  const std::string key = observation_key(obs_.type, obs_.value);
  TimestampMs first_seen = 0;
  VIGIL_RETURN_IF_ERROR(update_first_seen(partition, key, first_seen));
  if (pack_->rings.enabled &&
      std::find(pack_->rings.types.begin(), pack_->rings.types.end(), *type) != pack_->rings.types.end())
    VIGIL_RETURN_IF_ERROR(ring_observation(partition, key, out, stats, in));

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
      VIGIL_RETURN_IF_ERROR(apply_first_seen(rule, partition, key, first_seen, ps->stream_time, out, stats, in));
    } else {
      VIGIL_RETURN_IF_ERROR(apply_windows(rule, partition, key, ps->stream_time, out, stats, in));
    }
  }
  return Status::ok();
}

Status StageB::apply_first_seen(const detect::StatefulRule& rule, std::int32_t partition, const std::string& key,
                                TimestampMs first_seen, TimestampMs stream_time, std::vector<io::Record>& out,
                                Stats& stats, const io::Record& in) {
  if (obs_.event_time - first_seen >= rule.window) return Status::ok();
  // [first_seen, first_seen + window) closed once stream time passed its end plus the grace,
  // and its suppression entry expires then (the sweep removes it online). An observation that
  // comes later is late, as for windows: without this it flagged the entity again, once per
  // batch, whenever the input partitions ran far apart in event time.
  if (first_seen + rule.window + pack_->state.grace < stream_time) return Status::ok();
  const std::string skey = rule.id + "|" + key;
  auto got = get_live(kSuppress, partition, skey);
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
  auto got = get_live(kWindows, partition, skey);
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

void StageB::end_flag(JsonWriter& w, TimestampMs now) const {
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
}

void StageB::count_flag(bool update, const std::string& category, const std::string& severity, const std::string& rule,
                        const std::string& key, std::string reason, const io::Record& in, Stats& stats) const {
  if (update) {
    ++stats.updates;
    return;
  }
  ++stats.flags;
  ++stats.flags_by_category[category];
  ++stats.flags_by_category_severity[{category, severity}];
  ++stats.rule_hits[rule];
  if (in.timestamp > 0) stats.flag_record_times.push_back(in.timestamp);
  if (stats.first_flags.size() < Stats::kMaxNotes) {
    stats.first_flags.push_back(
        {severity, category, key, std::move(reason),
         obs_.topic + "/" + std::to_string(obs_.partition) + "@" + std::to_string(obs_.offset)});
  }
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
  write_breakdown(w, rule.id, rule.score, pack_->category(rule.category));

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

  end_flag(w, now);

  count_flag(update, rule.category, severity, rule.id, *r.key, fill(rule.reason_en, count, rule.threshold, rule.window),
             in, stats);
}

// ---- Fraud rings (docs/state.md): min-label propagation through the observations topic.

struct StageB::RingNode {
  std::string label;  // smallest entity key known in the component; == own key for a root
  bool flagged = false;
  bool hub = false;                    // more links than max_degree: takes part in no ring
  std::vector<std::string> neighbors;  // sorted
  // Root only: the members that joined, and the ring flag once raised (or inherited).
  state::DistinctCounter members{256};
  state::DistinctCounter flagged_members{256};
  std::vector<std::string> shown;  // up to kShown member keys, for the flag's entities
  std::string ring_flag;
  std::uint64_t reported = 0;

  static constexpr std::size_t kShown = 50;

  void encode(std::string& out) const {
    state::Encoder e(out);
    e.bytes(label).varint((flagged ? 1U : 0U) | (hub ? 2U : 0U)).varint(neighbors.size());
    for (const auto& n : neighbors) e.bytes(n);
    members.encode(e);
    flagged_members.encode(e);
    e.varint(shown.size());
    for (const auto& m : shown) e.bytes(m);
    e.bytes(ring_flag).varint(reported);
  }
  bool decode(std::string_view in) {
    state::Decoder d(in);
    std::string_view sv;
    std::uint64_t bits = 0;
    std::uint64_t n = 0;
    if (!d.bytes(sv) || !d.varint(bits) || !d.varint(n) || n > in.size()) return false;
    label.assign(sv);
    flagged = (bits & 1U) != 0;
    hub = (bits & 2U) != 0;
    neighbors.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!d.bytes(sv)) return false;
      neighbors.emplace_back(sv);
    }
    if (!members.decode(d) || !flagged_members.decode(d) || !d.varint(n) || n > kShown) return false;
    shown.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!d.bytes(sv)) return false;
      shown.emplace_back(sv);
    }
    if (!d.bytes(sv) || !d.varint(reported)) return false;
    ring_flag.assign(sv);
    return !label.empty();
  }
};

Status StageB::load_ring(std::int32_t partition, const std::string& key, RingNode& node, bool& existed, Stats& stats) {
  node = RingNode();
  node.label = key;
  existed = false;
  auto got = get_live(kRings, partition, key);
  if (!got.is_ok()) return got.status();
  if (!got.value()) return Status::ok();
  if (!node.decode(got.value()->value)) {
    ++stats.corrupt_state;
    node = RingNode();
    node.label = key;
    return Status::ok();
  }
  existed = true;
  return Status::ok();
}

Status StageB::save_ring(std::int32_t partition, const std::string& key, const RingNode& node) {
  buffer_.clear();
  node.encode(buffer_);
  return put(kRings, partition, key, buffer_, obs_.event_time + pack_->state.first_seen_retention);
}

void StageB::send(const std::string& to, std::string_view msg, std::vector<io::Record>& out,
                  const std::function<void(Observation&)>& fill) {
  Observation& m = message_;
  m = obs_;  // the event that set this off: its time and source travel with the message
  const auto colon = to.find(':');
  m.type = to.substr(0, colon);
  m.value = colon == std::string::npos ? std::string() : to.substr(colon + 1);
  m.qualifier.clear();
  m.brand.clear();
  m.links.clear();
  m.msg.assign(msg);
  m.label.clear();
  m.member.clear();
  m.member_flagged = false;
  m.ring_flag.clear();
  fill(m);
  io::Record& r = out.emplace_back();
  r.topic = config_.state.observations_topic;
  r.key = to;
  r.value.emplace();
  encode_observation(m, *r.value);
  r.timestamp = clock_();
}

void StageB::emit_ring(const std::string& root, const RingNode& node, bool update, std::vector<io::Record>& out,
                       Stats& stats, const io::Record& in) {
  const auto& rings = pack_->rings;
  const std::uint64_t count = node.members.count();
  const std::string severity(detect::severity_for(rings.score, pack_->severity));
  const TimestampMs now = clock_();
  const auto masked = [](const std::string& key) {
    const auto colon = key.find(':');
    const auto type = extract::entity_type_from_name(key.substr(0, colon));
    const std::string value = key.substr(colon + 1);
    return std::pair<std::string, std::string>(
        key.substr(0, colon), type && extract::is_personal(*type) ? extract::mask(*type, value) : value);
  };
  io::Record& r = out.emplace_back();
  r.topic = config_.flags_topic_prefix + rings.category;
  r.key = node.ring_flag;
  r.timestamp = now;
  r.headers = {{"category", rings.category}, {"severity", severity}, {"flag_id", node.ring_flag}};
  if (update) r.headers.push_back({"kind", "update"});
  r.value.emplace();
  JsonWriter w(*r.value);
  w.begin_object().field("flag_id", node.ring_flag).field("kind", update ? "update" : "flag");
  w.field("category", rings.category).field("severity", severity).field("score", rings.score);
  w.field("rule_pack", pack_->qualified_version());
  w.key("rules").begin_array().begin_object().field("id", "ring.members");
  w.field("reason_en", fill(rings.reason_en, count, rings.min_members, 0));
  w.field("reason_vi", fill(rings.reason_vi, count, rings.min_members, 0));
  w.field("weight", rings.score).end_object().end_array();
  write_breakdown(w, "ring.members", rings.score, pack_->category(rings.category));
  w.key("ring").begin_object().field("id", node.ring_flag).field("members", static_cast<std::int64_t>(count));
  w.field("flagged_members", static_cast<std::int64_t>(node.flagged_members.count())).end_object();
  w.key("entities").begin_array();
  for (const auto& m : node.shown) {
    const auto [type, shown] = masked(m);
    w.begin_object().field("type", type);
    const auto t = extract::entity_type_from_name(type);
    w.field(t && extract::is_personal(*t) ? "masked" : "value", shown);
    if (m == root) w.field("primary", true);
    w.end_object();
  }
  w.end_array();
  w.key("evidence").begin_array().begin_object().field("rule", "ring.members").field("measure", "members");
  w.field("count", static_cast<std::int64_t>(count)).field("threshold", static_cast<std::int64_t>(rings.min_members));
  w.end_object().end_array();
  w.key("counts").begin_object().field("members", static_cast<std::int64_t>(count));
  w.field("flagged_members", static_cast<std::int64_t>(node.flagged_members.count())).end_object();
  end_flag(w, now);
  count_flag(update, rings.category, severity, "ring.members", node.ring_flag,
             fill(rings.reason_en, count, rings.min_members, 0), in, stats);
}

// At a root: count `member` in; raise the ring flag, or an update when it has doubled.
void StageB::join_root(const std::string& key, RingNode& node, const std::string& member, bool member_flagged,
                       std::vector<io::Record>& out, Stats& stats, const io::Record& in) {
  node.members.add(state::id_of(member));
  if (member_flagged) node.flagged_members.add(state::id_of(member));
  if (node.shown.size() < RingNode::kShown &&
      std::find(node.shown.begin(), node.shown.end(), member) == node.shown.end())
    node.shown.push_back(member);
  const std::uint64_t count = node.members.count();
  if (count < pack_->rings.min_members || node.flagged_members.count() == 0) return;
  if (node.ring_flag.empty()) {
    node.ring_flag = "fl_" + hex64(Fnv1a64().field("ring").field(key).value());
    node.reported = count;
    emit_ring(key, node, false, out, stats, in);
  } else if (count >= 2 * node.reported) {
    node.reported = count;
    emit_ring(key, node, true, out, stats, in);
  }
}

Status StageB::ring_observation(std::int32_t partition, const std::string& key, std::vector<io::Record>& out,
                                Stats& stats, const io::Record& in) {
  const auto& rings = pack_->rings;
  RingNode node;
  bool existed = false;
  if (obs_.links.empty()) {
    // Alone in its event: only news if it is already in a ring and now comes flagged.
    VIGIL_RETURN_IF_ERROR(load_ring(partition, key, node, existed, stats));
    if (!existed || obs_.flagged.empty() || node.flagged) return Status::ok();
  } else {
    VIGIL_RETURN_IF_ERROR(load_ring(partition, key, node, existed, stats));
  }
  bool changed = !existed;
  const bool newly_flagged = !obs_.flagged.empty() && !node.flagged;
  if (newly_flagged) {
    node.flagged = true;
    changed = true;
  }
  std::vector<std::string> added;
  if (!node.hub) {
    for (const auto& l : obs_.links) {
      const auto it = std::lower_bound(node.neighbors.begin(), node.neighbors.end(), l);
      if (it != node.neighbors.end() && *it == l) continue;
      node.neighbors.insert(it, l);
      added.push_back(l);
    }
    if (node.neighbors.size() > rings.max_degree) {
      node.hub = true;  // a platform-wide entity: it would join unrelated rings
      node.neighbors.clear();
      added.clear();
    }
    changed = changed || !added.empty();
  }
  if (!changed) return Status::ok();
  if (!node.hub) {
    // Tell new neighbours our label; their own observations tell us theirs.
    for (const auto& n : added) send(n, "label", out, [&](Observation& m) { m.label = node.label; });
    if (!existed || newly_flagged) {
      if (node.label == key) {
        join_root(key, node, key, node.flagged, out, stats, in);
      } else {
        send(node.label, "join", out, [&](Observation& m) {
          m.member = key;
          m.member_flagged = node.flagged;
        });
      }
    }
  }
  return save_ring(partition, key, node);
}

Status StageB::ring_message(std::int32_t partition, const std::string& key, std::vector<io::Record>& out, Stats& stats,
                            const io::Record& in) {
  RingNode node;
  bool existed = false;
  VIGIL_RETURN_IF_ERROR(load_ring(partition, key, node, existed, stats));
  if (node.hub) return Status::ok();
  if (obs_.msg == "label") {
    if (obs_.label >= node.label) return existed ? Status::ok() : save_ring(partition, key, node);
    const bool was_root = node.label == key;
    node.label = obs_.label;
    for (const auto& n : node.neighbors) send(n, "label", out, [&](Observation& m) { m.label = node.label; });
    send(node.label, "join", out, [&](Observation& m) {
      m.member = key;
      m.member_flagged = node.flagged;
    });
    if (was_root && !node.ring_flag.empty()) {
      // Our ring is part of a bigger component now: its root carries our flag on.
      send(node.label, "merge", out, [&](Observation& m) {
        m.member = key;
        m.ring_flag = node.ring_flag;
      });
    }
    return save_ring(partition, key, node);
  }
  if (node.label != key) {
    // Not a root any more (or never was): pass it on towards the root we know.
    send(node.label, obs_.msg, out, [&](Observation& m) {
      m.member = obs_.member;
      m.member_flagged = obs_.member_flagged;
      m.ring_flag = obs_.ring_flag;
    });
    return existed ? Status::ok() : save_ring(partition, key, node);
  }
  if (obs_.msg == "join") {
    join_root(key, node, obs_.member, obs_.member_flagged, out, stats, in);
  } else if (obs_.msg == "merge" && obs_.ring_flag != node.ring_flag) {
    if (node.ring_flag.empty()) {
      // The smaller ring flagged first: its flag goes on, as updates, never a second flag.
      node.ring_flag = obs_.ring_flag;
      node.reported = std::max<std::uint64_t>(node.members.count(), 1);
    }
    emit_ring(key, node, true, out, stats, in);
  }
  return save_ring(partition, key, node);
}

Status StageB::finish_batch(std::vector<io::Record>& out, Stats& stats) {
  drain_bad_changelog(out, stats);
  stats.restored += std::exchange(restored_stats_.restored, 0);
  for (const auto partition : stream_time_dirty_) {
    if (restorer_ != nullptr) VIGIL_RETURN_IF_ERROR(sweep(partition, partitions_[partition].stream_time));
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
