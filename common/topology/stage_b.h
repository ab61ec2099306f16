#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/core/config.h"
#include "common/core/json_writer.h"
#include "common/core/time.h"
#include "common/detect/rule_pack.h"
#include "common/io/record.h"
#include "common/state/store.h"
#include "common/state/window.h"
#include "common/topology/observation.h"
#include "common/topology/processor.h"
#include "common/topology/restorer.h"
#include "common/topology/stats.h"

namespace vigil::topology {

// Told about restores (the stage B probe). Called on the stage B thread.
class RestoreObserver {
 public:
  virtual ~RestoreObserver() = default;
  // Partitions assigned whose state is not restored yet.
  virtual void on_restoring(std::size_t partitions) = 0;
  virtual void on_restored(const Restored& restored) = 0;
};

// The stores stage B keeps, one RocksDB column family each.
inline const std::vector<std::string>& stage_b_stores() {
  static const std::vector<std::string> stores{"first_seen", "windows", "suppress", "meta", "rings"};
  return stores;
}

// Stage B: entity state. Consumes observations (keyed by entity), keeps first-seen times and
// event-time windowed counts per stateful rule in the Store, and raises stateful flags: the
// same (rule, entity, window) once, with a deterministic flag_id; later growth (the count
// doubling) as `update` records. Every key written in a batch goes to the changelog once, with
// its final value, in the batch's transaction. A partition's state is restored from the
// changelog (from the local checkpoint) the first time the partition is seen after an
// assignment: in the background when the assignment is announced (assigned()), and the
// partition's records wait (paused) meanwhile; at once, blocking, for a partition whose
// records come without that.
// Lifecycle: one per stage-B thread; not thread-safe. The Store and Restorer outlive it.
class StageB final : public Processor {
 public:
  using Clock = std::function<TimestampMs()>;

  // `restorer` null: no changelog (offline); state lives only in the local store.
  StageB(const DetectorConfig& config, std::shared_ptr<const detect::RulePack> pack, state::Store& store,
         Restorer* restorer, Clock clock = wall_clock_ms, RestoreObserver* observer = nullptr);

  Status process(const io::Record& in, std::vector<io::Record>& out, Stats& stats) override;
  Status finish_batch(std::vector<io::Record>& out, Stats& stats) override;
  Status committed(const std::vector<io::TopicPartitionOffset>& delivered) override;
  void aborted() override;

  // Partitions given to this worker: their restore starts in the background.
  void assigned(const std::vector<std::int32_t>& partitions);
  // Partitions taken away: restored again (from their checkpoint) if they come back.
  void revoked(const std::vector<std::int32_t>& partitions);
  // Between batches: partitions whose background restore finished (to resume). An error is a
  // failed restore (the worker cannot serve the partition).
  [[nodiscard]] Status take_restored(std::vector<std::int32_t>& finished);
  std::size_t restoring() const { return restoring_.size(); }

  // Tells the ring coordinator how far each partition's event time got (docs/state.md):
  // "wm" messages for the partitions whose stream time moved since the last call. Called by
  // finish_batch(); offline after every record too, so that ring flags come at the same place
  // in the output whatever the batch size.
  void send_watermarks(std::vector<io::Record>& out);

  void set_rule_pack(std::shared_ptr<const detect::RulePack> pack) { pack_ = std::move(pack); }
  const detect::RulePack& pack() const { return *pack_; }

 private:
  struct PartitionState {
    TimestampMs stream_time = 0;
    TimestampMs watermark_sent = 0;  // links older than this would reach the ring coordinator late
    bool known = false;              // stream_time loaded
  };

  struct RingNode;
  class RingApply;
  Status ensure_partition(std::int32_t partition, std::vector<io::Record>& out, Stats& stats, PartitionState*& state);
  void ring_observation(const PartitionState& ps, const std::string& key, std::vector<io::Record>& out, Stats& stats);
  Status ring_message(std::int32_t partition, std::vector<io::Record>& out, Stats& stats, const io::Record& in);
  // Applies the pending links with times in (applied, to], in key order.
  Status apply_links(std::int32_t partition, TimestampMs applied, TimestampMs to, std::vector<io::Record>& out,
                     Stats& stats, const io::Record& in);
  void send_ring(std::string_view msg, std::vector<io::Record>& out, const std::function<void(Observation&)>& fill);
  // The record of a ring message: keyed "ring:coordinator" on the observations topic.
  void to_coordinator(const Observation& m, std::vector<io::Record>& out);
  void emit_ring(const std::string& root, const RingNode& node, bool update, std::vector<io::Record>& out, Stats& stats,
                 const io::Record& in);
  Status finish_restore(const Restored& r, Stats& stats);
  Result<std::optional<state::Stored>> get_live(std::string_view store, std::int32_t partition, const std::string& key);
  Status sweep(std::int32_t partition, TimestampMs stream_time);
  void drain_bad_changelog(std::vector<io::Record>& out, Stats& stats);
  Status update_first_seen(std::int32_t partition, const std::string& key, TimestampMs& first_seen);
  Status apply_first_seen(const detect::StatefulRule& rule, std::int32_t partition, const std::string& key,
                          TimestampMs first_seen, TimestampMs stream_time, std::vector<io::Record>& out, Stats& stats,
                          const io::Record& in);
  Status apply_windows(const detect::StatefulRule& rule, std::int32_t partition, const std::string& key,
                       TimestampMs stream_time, std::vector<io::Record>& out, Stats& stats, const io::Record& in);
  void emit(const detect::StatefulRule& rule, const std::string& flag_id, bool update, TimestampMs window_start,
            TimestampMs window_end, std::uint64_t count, std::vector<io::Record>& out, Stats& stats,
            const io::Record& in);
  // The source (the observation's event), detected_at and the end of a flag's JSON object.
  void end_flag(JsonWriter& w, TimestampMs now) const;
  void count_flag(bool update, const std::string& category, const std::string& severity, const std::string& rule,
                  const std::string& key, std::string reason, const io::Record& in, Stats& stats) const;
  Status put(std::string_view store, std::int32_t partition, const std::string& key, std::string_view value,
             TimestampMs expire_at);
  Status erase(std::string_view store, std::int32_t partition, const std::string& key);
  void dead_letter(const io::Record& in, std::string_view reason, const std::string& detail,
                   std::vector<io::Record>& out, Stats& stats);

  DetectorConfig config_;
  std::shared_ptr<const detect::RulePack> pack_;
  state::Store& store_;
  Restorer* restorer_;
  Clock clock_;
  RestoreObserver* observer_;
  std::set<std::int32_t> restoring_;
  Stats restored_stats_;  // restores finished between batches, reported with the next batch
  ObservationParser parser_;
  Observation obs_;
  std::map<std::int32_t, PartitionState> partitions_;  // restored partitions
  std::set<std::int32_t> stream_time_dirty_;
  std::set<std::int32_t> watermark_dirty_;
  // Ring coordinator: pending links written in this batch (scan() sees committed ones only).
  std::map<std::string, std::string> batch_links_;
  std::set<std::tuple<std::string, std::int32_t, std::string>> dirty_;  // (store, partition, key)
  std::vector<TimestampMs> starts_;
  Observation message_;
  std::map<std::pair<std::int32_t, std::string>, std::string> sweep_cursors_;  // (partition, store) -> last key
  std::string buffer_;
};

}  // namespace vigil::topology
