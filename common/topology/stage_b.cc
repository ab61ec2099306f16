#include "common/topology/stage_b.h"

#include <algorithm>
#include <limits>
#include <tuple>

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
    watermark_dirty_.erase(p);
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
    // What the last batch told the ring coordinator (send_watermarks).
    it->second.watermark_sent = it->second.stream_time - pack_->state.grace;
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
  if (!type && obs_.msg.empty()) {
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
    return ring_message(partition, out, stats, in);
  }
  if (obs_.event_time > ps->stream_time) {
    ps->stream_time = obs_.event_time;
    stream_time_dirty_.insert(partition);
    watermark_dirty_.insert(partition);
  }
  const std::string key = observation_key(obs_.type, obs_.value);
  TimestampMs first_seen = 0;
  VIGIL_RETURN_IF_ERROR(update_first_seen(partition, key, first_seen));
  if (pack_->rings.enabled &&
      std::find(pack_->rings.types.begin(), pack_->rings.types.end(), *type) != pack_->rings.types.end())
    ring_observation(*ps, key, out, stats);

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

// ---- Fraud rings (docs/state.md): the links of every event go to one coordinator, which
// applies them to a union-find in event-time order once every partition's watermark passed
// them, so that what it decides follows from the input alone.

namespace {

constexpr std::string_view kCoordinatorType = "ring";
constexpr std::string_view kCoordinatorValue = "coordinator";
constexpr std::string_view kAppliedKey = "ring_applied";
constexpr TimestampMs kNoTime = std::numeric_limits<TimestampMs>::min();
constexpr char kSep = '\x1f';

std::string watermark_key(std::int32_t partition) {
  return "ring_wm/" + std::to_string(partition);
}

// Fixed width, so that keys sort by time; event times before 1970 count as 1970.
std::string time_hex(TimestampMs t) {
  static constexpr char kDigits[] = "0123456789abcdef";
  auto v = static_cast<std::uint64_t>(std::max<TimestampMs>(t, 0));
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return out;
}

std::string pending_prefix() {
  return std::string("pending") + kSep;
}

// A pending link's key: its time first, then what makes it unique, so a scan gives the one
// canonical order in which links are applied.
std::string pending_key(const Observation& link) {
  std::string key = pending_prefix() + time_hex(link.event_time) + kSep + link.member;
  for (const auto& l : link.links) key.append(1, kSep).append(l);
  key.append(1, kSep).append(link.member_flagged ? "1" : "0");
  return key;
}

std::string edge_key(const std::string& a, const std::string& b) {
  const auto& [lo, hi] = std::minmax(a, b);
  std::string key("edge");
  key.append(1, kSep).append(lo).append(1, kSep).append(hi);
  return key;
}

}  // namespace

struct StageB::RingNode {
  std::string parent;  // empty for a root
  bool flagged = false;
  bool hub = false;  // more links than max_degree: links no further
  std::uint64_t degree = 0;
  // Root only: the component's size, flagged members, members shown in flags, and its ring
  // flag once raised (with the size last reported and when it was raised).
  std::uint64_t size = 1;
  std::uint64_t flagged_members = 0;
  std::vector<std::string> shown;
  std::string ring_flag;
  std::uint64_t reported = 0;
  TimestampMs raised_at = 0;

  static constexpr std::size_t kShown = 50;

  void encode(std::string& out) const {
    state::Encoder e(out);
    e.bytes(parent).varint((flagged ? 1U : 0U) | (hub ? 2U : 0U)).varint(degree).varint(size).varint(flagged_members);
    e.varint(shown.size());
    for (const auto& m : shown) e.bytes(m);
    e.bytes(ring_flag).varint(reported).signed_varint(raised_at);
  }
  bool decode(std::string_view in) {
    state::Decoder d(in);
    std::string_view sv;
    std::uint64_t bits = 0;
    std::uint64_t n = 0;
    if (!d.bytes(sv) || !d.varint(bits) || !d.varint(degree) || !d.varint(size) || !d.varint(flagged_members) ||
        !d.varint(n) || n > kShown)
      return false;
    parent.assign(sv);
    flagged = (bits & 1U) != 0;
    hub = (bits & 2U) != 0;
    shown.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!d.bytes(sv)) return false;
      shown.emplace_back(sv);
    }
    if (!d.bytes(sv) || !d.varint(reported) || !d.signed_varint(raised_at)) return false;
    ring_flag.assign(sv);
    return true;
  }
};

// The union-find nodes one link touches, read once and written back together. Union by size
// (ties: the smaller key), path compression on every find.
// Lifecycle: one per applied link, on the stage B thread.
class StageB::RingApply {
 public:
  RingApply(StageB& b, std::int32_t partition, TimestampMs t, Stats& stats)
      : b_(b), partition_(partition), t_(t), stats_(stats) {}

  // The node of `key`, new (a component of its own) when not stored or expired.
  Status node(const std::string& key, RingNode*& out) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) {
      it = nodes_.emplace(key, RingNode()).first;
      auto got = get(key);
      if (!got.is_ok()) return got.status();
      if (!got.value() || !it->second.decode(got.value()->value)) {
        if (got.value()) ++stats_.corrupt_state;
        it->second = RingNode();
        it->second.shown.push_back(key);
      } else {
        loaded_[key] = std::move(*got.value());
      }
    }
    out = &it->second;
    return Status::ok();
  }

  Status find(const std::string& key, std::string& root) {
    std::vector<std::string> path;
    root = key;
    RingNode* n = nullptr;
    VIGIL_RETURN_IF_ERROR(node(root, n));
    while (!n->parent.empty()) {
      if (path.size() > 4096) return Status(Code::kInternal, "ring state: a parent chain loops at " + key);
      path.push_back(root);
      root = n->parent;
      VIGIL_RETURN_IF_ERROR(node(root, n));
    }
    for (const auto& p : path) nodes_[p].parent = root;
    return Status::ok();
  }

  Status edge_known(const std::string& a, const std::string& b, bool& known) {
    std::string key = edge_key(a, b);
    auto got = get(key);
    if (!got.is_ok()) return got.status();
    known = got.value().has_value();
    if (!known || refresh_due(got.value()->expire_at)) edges_.push_back(std::move(key));
    return Status::ok();
  }

  // Joins the components of a and b; the root that stays is in `root`.
  Status unite(const std::string& a, const std::string& b, std::string& root) {
    std::string ra, rb;
    VIGIL_RETURN_IF_ERROR(find(a, ra));
    VIGIL_RETURN_IF_ERROR(find(b, rb));
    root = ra;
    if (ra == rb) return Status::ok();
    RingNode& x = nodes_[ra];
    RingNode& y = nodes_[rb];
    const bool x_stays = x.size > y.size || (x.size == y.size && ra < rb);
    RingNode& keep = x_stays ? x : y;
    RingNode& gone = x_stays ? y : x;
    root = x_stays ? ra : rb;
    keep.size += gone.size;
    keep.flagged_members += gone.flagged_members;
    for (auto& m : gone.shown) {
      if (keep.shown.size() >= RingNode::kShown) break;
      keep.shown.push_back(std::move(m));
    }
    if (!gone.ring_flag.empty()) {
      // Two flagged rings became one: the one raised first keeps its id, never a second flag.
      if (keep.ring_flag.empty() ||
          std::tie(gone.raised_at, gone.ring_flag) < std::tie(keep.raised_at, keep.ring_flag)) {
        keep.ring_flag = gone.ring_flag;
        keep.raised_at = gone.raised_at;
      }
      keep.reported = std::max(keep.reported, gone.reported);
      merged_.insert(root);
    }
    gone.parent = root;
    gone.size = 0;
    gone.flagged_members = 0;
    gone.shown.clear();
    gone.ring_flag.clear();
    gone.reported = 0;
    return Status::ok();
  }

  bool merged_flagged(const std::string& root) const { return merged_.count(root) > 0; }
  RingNode& at(const std::string& key) { return nodes_[key]; }

  // Writes the nodes that changed, and those read whose expiry is due for a refresh: most
  // links touch a big component's root and change nothing there but its size.
  Status save() {
    const TimestampMs expire_at = expiry();
    for (const auto& [key, n] : nodes_) {
      b_.buffer_.clear();
      n.encode(b_.buffer_);
      const auto it = loaded_.find(key);
      if (it != loaded_.end() && it->second.value == b_.buffer_ && !refresh_due(it->second.expire_at)) continue;
      VIGIL_RETURN_IF_ERROR(b_.put(kRings, partition_, key, b_.buffer_, expire_at));
    }
    for (const auto& key : edges_) VIGIL_RETURN_IF_ERROR(b_.put(kRings, partition_, key, "", expire_at));
    return Status::ok();
  }

 private:
  TimestampMs expiry() const { return t_ + b_.pack_->state.first_seen_retention; }
  // Expiry moves forward at most once a day per key: a day's less retention for far fewer
  // writes. Decided from stored values and the link's time only, so the same in every run.
  bool refresh_due(TimestampMs stored_expiry) const { return expiry() - stored_expiry >= 86'400'000; }

  // Expiry against the link's own time, not the partition's stream time: the same in every run.
  Result<std::optional<state::Stored>> get(const std::string& key) {
    auto got = b_.store_.get(kRings, partition_, key);
    if (!got.is_ok() || !got.value()) return got;
    if (got.value()->expire_at != 0 && got.value()->expire_at < t_) return std::optional<state::Stored>();
    return got;
  }

  StageB& b_;
  std::int32_t partition_;
  TimestampMs t_;
  Stats& stats_;
  std::map<std::string, RingNode> nodes_;
  std::map<std::string, state::Stored> loaded_;  // as read, to write back only what changed
  std::vector<std::string> edges_;
  std::set<std::string> merged_;
};

void StageB::send_ring(std::string_view msg, std::vector<io::Record>& out,
                       const std::function<void(Observation&)>& fill) {
  Observation& m = message_;
  m = obs_;  // the event that set this off: its time and source travel with the message
  m.type.assign(kCoordinatorType);
  m.value.assign(kCoordinatorValue);
  m.qualifier.clear();
  m.brand.clear();
  m.links.clear();
  m.flagged.clear();
  m.msg.assign(msg);
  m.member.clear();
  m.member_flagged = false;
  m.from_partition = -1;
  fill(m);
  to_coordinator(m, out);
}

void StageB::to_coordinator(const Observation& m, std::vector<io::Record>& out) {
  io::Record& r = out.emplace_back();
  r.topic = config_.state.observations_topic;
  r.key = observation_key(kCoordinatorType, kCoordinatorValue);
  r.value.emplace();
  encode_observation(m, *r.value);
  r.timestamp = clock_();
}

// The smallest ring entity of an event speaks for all of it: one link message per event.
void StageB::ring_observation(const PartitionState& ps, const std::string& key, std::vector<io::Record>& out,
                              Stats& stats) {
  if (obs_.links.empty() ? obs_.flagged.empty() : *std::min_element(obs_.links.begin(), obs_.links.end()) < key) return;
  if (obs_.event_time < ps.watermark_sent) {
    ++stats.late;  // the coordinator may have applied past it: dropped, as windows drop it
    return;
  }
  send_ring("link", out, [&](Observation& m) {
    m.member = key;
    m.links = obs_.links;
    m.member_flagged = !obs_.flagged.empty();
  });
}

void StageB::send_watermarks(std::vector<io::Record>& out) {
  for (const auto p : watermark_dirty_) {
    auto it = partitions_.find(p);
    if (it == partitions_.end() || !pack_->rings.enabled) continue;
    it->second.watermark_sent = it->second.stream_time - pack_->state.grace;
    Observation& m = message_;
    m.clear();
    m.type.assign(kCoordinatorType);
    m.value.assign(kCoordinatorValue);
    m.event_id = "wm";
    m.event_time = it->second.watermark_sent;
    m.msg = "wm";
    m.from_partition = p;
    to_coordinator(m, out);
  }
  watermark_dirty_.clear();
}

// At the coordinator: park links until every partition's watermark passed them, then apply.
Status StageB::ring_message(std::int32_t partition, std::vector<io::Record>& out, Stats& stats, const io::Record& in) {
  const auto read_time = [&](const std::string& key, TimestampMs& t) -> Status {
    t = kNoTime;
    auto got = store_.get(kMeta, partition, key);
    if (!got.is_ok()) return got.status();
    if (got.value()) {
      state::Decoder d(got.value()->value);
      if (!d.signed_varint(t)) {
        ++stats.corrupt_state;
        t = kNoTime;
      }
    }
    return Status::ok();
  };
  const auto write_time = [&](const std::string& key, TimestampMs t) {
    buffer_.clear();
    state::Encoder(buffer_).signed_varint(t);
    return put(kMeta, partition, key, buffer_, 0);
  };
  TimestampMs applied = kNoTime;
  VIGIL_RETURN_IF_ERROR(read_time(std::string(kAppliedKey), applied));
  if (obs_.msg == "link") {
    if (obs_.event_time <= applied) {
      ++stats.late;  // cannot happen when every partition keeps to its watermarks
      return Status::ok();
    }
    const std::string key = pending_key(obs_);
    batch_links_[key] = *in.value;
    return put(kRings, partition, key, *in.value, 0);  // erased when applied
  }
  const std::int32_t from = obs_.from_partition;
  if (from >= config_.state.partitions) {
    dead_letter(in, "bad_observation",
                "wm message from partition " + std::to_string(from) + ", but state.partitions is " +
                    std::to_string(config_.state.partitions),
                out, stats);
    return Status::ok();
  }
  TimestampMs known = kNoTime;
  VIGIL_RETURN_IF_ERROR(read_time(watermark_key(from), known));
  if (obs_.event_time <= known) return Status::ok();
  VIGIL_RETURN_IF_ERROR(write_time(watermark_key(from), obs_.event_time));
  TimestampMs global = std::numeric_limits<TimestampMs>::max();
  for (std::int32_t p = 0; p < config_.state.partitions; ++p) {
    TimestampMs w = obs_.event_time;
    if (p != from) VIGIL_RETURN_IF_ERROR(read_time(watermark_key(p), w));
    global = std::min(global, w);
  }
  if (global == kNoTime || global <= applied) return Status::ok();
  VIGIL_RETURN_IF_ERROR(apply_links(partition, applied, global, out, stats, in));
  return write_time(std::string(kAppliedKey), global);
}

Status StageB::apply_links(std::int32_t partition, TimestampMs applied, TimestampMs to, std::vector<io::Record>& out,
                           Stats& stats, const io::Record& in) {
  const std::string prefix = pending_prefix();
  // Everything with a time in (applied, to]; keys of time `applied` end in kSep, below ' '.
  const std::string first = applied == kNoTime ? prefix : prefix + time_hex(applied) + ' ';
  const std::string last = prefix + time_hex(to) + '\x7f';
  std::map<std::string, std::string> todo;
  for (std::string cursor = first;;) {
    bool more = true;
    auto next = store_.scan(kRings, partition, cursor, 1000, [&](std::string_view key, const state::Stored& v) {
      if (key.substr(0, prefix.size()) != prefix || key > last) return more = false;
      todo.emplace(key, v.value);
      return true;
    });
    if (!next.is_ok()) return next.status();
    if (!more || next.value().empty()) break;
    cursor = std::move(next.value());
  }
  for (auto it = batch_links_.upper_bound(first); it != batch_links_.end() && it->first <= last;)
    todo.insert(batch_links_.extract(it++));

  const auto& rings = pack_->rings;
  for (const auto& [key, value] : todo) {
    VIGIL_RETURN_IF_ERROR(erase(kRings, partition, key));
    if (!parser_.parse(value, obs_).is_ok() || obs_.msg != "link") {
      ++stats.corrupt_state;
      continue;
    }
    RingApply ra(*this, partition, obs_.event_time, stats);
    std::vector<std::string> members{obs_.member};
    members.insert(members.end(), obs_.links.begin(), obs_.links.end());
    for (const auto& m : members) {
      RingNode* n = nullptr;
      VIGIL_RETURN_IF_ERROR(ra.node(m, n));
      if (!obs_.member_flagged || n->flagged) continue;
      n->flagged = true;
      std::string root;
      VIGIL_RETURN_IF_ERROR(ra.find(m, root));
      ++ra.at(root).flagged_members;
    }
    for (const auto& l : obs_.links) {
      if (l == obs_.member) continue;
      bool known = false;
      VIGIL_RETURN_IF_ERROR(ra.edge_known(obs_.member, l, known));
      if (known) continue;
      RingNode* a = nullptr;
      RingNode* b = nullptr;
      VIGIL_RETURN_IF_ERROR(ra.node(obs_.member, a));
      VIGIL_RETURN_IF_ERROR(ra.node(l, b));
      if (a->hub || b->hub) continue;
      // A platform-wide entity would glue unrelated rings together: past max_degree it links
      // no further (what it linked before stays).
      a->hub = ++a->degree > rings.max_degree;
      b->hub = ++b->degree > rings.max_degree;
      if (a->hub || b->hub) continue;
      std::string root;
      VIGIL_RETURN_IF_ERROR(ra.unite(obs_.member, l, root));
    }
    std::set<std::string> roots;
    for (const auto& m : members) {
      std::string root;
      VIGIL_RETURN_IF_ERROR(ra.find(m, root));
      roots.insert(root);
    }
    for (const auto& root : roots) {
      RingNode& r = ra.at(root);
      if (r.size < rings.min_members || r.flagged_members == 0) continue;
      if (r.ring_flag.empty()) {
        r.ring_flag = "fl_" + hex64(Fnv1a64().field("ring").field(root).value());
        r.raised_at = obs_.event_time;
        r.reported = r.size;
        emit_ring(root, r, false, out, stats, in);
      } else if (r.size >= 2 * r.reported || ra.merged_flagged(root)) {
        r.reported = std::max(r.reported, r.size);
        emit_ring(root, r, true, out, stats, in);
      }
    }
    VIGIL_RETURN_IF_ERROR(ra.save());
  }
  return Status::ok();
}

void StageB::emit_ring(const std::string& root, const RingNode& node, bool update, std::vector<io::Record>& out,
                       Stats& stats, const io::Record& in) {
  const auto& rings = pack_->rings;
  const std::uint64_t count = node.size;
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
  w.field("flagged_members", static_cast<std::int64_t>(node.flagged_members)).end_object();
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
  w.field("flagged_members", static_cast<std::int64_t>(node.flagged_members)).end_object();
  end_flag(w, now);
  count_flag(update, rings.category, severity, "ring.members", node.ring_flag,
             fill(rings.reason_en, count, rings.min_members, 0), in, stats);
}

Status StageB::finish_batch(std::vector<io::Record>& out, Stats& stats) {
  drain_bad_changelog(out, stats);
  send_watermarks(out);
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
  batch_links_.clear();
  for (const auto& [partition, ps] : partitions_) store_.set_stream_time(partition, ps.stream_time);
  return Status::ok();
}

void StageB::aborted() {
  store_.discard();
  dirty_.clear();
  stream_time_dirty_.clear();
  watermark_dirty_.clear();
  batch_links_.clear();
  for (auto& [partition, ps] : partitions_) ps.known = false;  // reloaded from the committed state
}

void StageB::revoked(const std::vector<std::int32_t>& partitions) {
  for (const auto p : partitions) {
    partitions_.erase(p);
    watermark_dirty_.erase(p);
    restoring_.erase(p);
    if (restorer_ != nullptr) restorer_->cancel(p);
  }
  if (observer_ != nullptr) observer_->on_restoring(restoring_.size());
}

}  // namespace vigil::topology
