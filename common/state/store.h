#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"

namespace vigil::state {

// One state change, as it goes to the changelog topic: the store, the input partition the
// state belongs to (the changelog partition), the key, and the stored bytes (nullopt: deleted).
struct ChangelogEntry {
  std::string store;
  std::int32_t partition = 0;
  std::string key;
  std::optional<std::string> value;
};

// The changelog position a partition's local state reflects: restore resumes after it.
struct Checkpoint {
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;
};

struct StoreStats {
  std::uint64_t live_data_bytes = 0;
  std::uint64_t sst_files_bytes = 0;
  std::uint64_t memtable_bytes = 0;
  std::uint64_t pending_compaction_bytes = 0;
  std::uint64_t block_cache_usage_bytes = 0;
  std::uint64_t block_cache_capacity_bytes = 0;
};

// A stored value: its bytes and the event time after which it may be deleted.
struct Stored {
  std::string value;
  TimestampMs expire_at = 0;
};

struct StoreOptions {
  std::string path;                 // directory of the RocksDB database, created if missing
  std::vector<std::string> stores;  // one column family each
  std::uint64_t block_cache_bytes = 64ULL << 20;
};

// Keyed state of one worker, split by the input partition it belongs to so that a
// partition's state can move to another worker. Writes go to a pending batch that reads see
// at once (read-your-writes within a batch) and that reaches disk only with commit(), after
// the Kafka transaction holding the same changes in the changelog has committed (one atomic
// WriteBatch); discard()
// forgets it after an abort. Every value carries an event-time expiry: values whose expiry is
// older than their partition's stream time are dropped by a compaction filter.
// Lifecycle: open() at start-up; get/put/erase/commit/discard/raw/scan from one processing
// thread; restore, checkpoint, set_checkpoint and drop_partition also from one restore thread
// (for other partitions than the processing thread is working on); stats() from any thread.
class Store {
 public:
  virtual ~Store() = default;

  [[nodiscard]] virtual Result<std::optional<Stored>> get(std::string_view store, std::int32_t partition,
                                                          std::string_view key) = 0;
  // Pending until commit().
  [[nodiscard]] virtual Status put(std::string_view store, std::int32_t partition, std::string_view key,
                                   std::string_view value, TimestampMs expire_at) = 0;
  [[nodiscard]] virtual Status erase(std::string_view store, std::int32_t partition, std::string_view key) = 0;

  // Makes pending writes, the checkpoints and the stream times durable in one atomic write.
  [[nodiscard]] virtual Status commit(const std::vector<Checkpoint>& checkpoints) = 0;
  virtual void discard() = 0;

  // Applies one changelog entry directly (restore); `raw` is the value as the changelog
  // carries it (nullopt deletes). Not visible to discard().
  [[nodiscard]] virtual Status restore(const ChangelogEntry& entry) = 0;
  // The same for many entries in one write. May be called from a restore thread while the
  // processing thread works on other partitions.
  [[nodiscard]] virtual Status restore(const std::vector<ChangelogEntry>& entries) = 0;
  // The changelog bytes of a pending or committed value: what put() wrote for (store, key).
  [[nodiscard]] virtual Result<std::optional<std::string>> raw(std::string_view store, std::int32_t partition,
                                                               std::string_view key) = 0;

  [[nodiscard]] virtual Result<std::optional<Checkpoint>> checkpoint(std::int32_t partition) = 0;
  // Records a checkpoint at once (after a restore), outside the pending batch.
  [[nodiscard]] virtual Status set_checkpoint(const Checkpoint& checkpoint) = 0;
  // Forgets everything of a partition (its state could no longer be restored incrementally).
  [[nodiscard]] virtual Status drop_partition(std::int32_t partition) = 0;

  // Event time the compaction filter compares expiries of this partition with.
  virtual void set_stream_time(std::int32_t partition, TimestampMs stream_time) = 0;

  // Visits committed entries of one store and partition in key order, starting after
  // `after` (empty: from the first), until `fn` returns false or `limit` entries were seen.
  // Returns the last key visited (empty when the end was reached): the cursor of a sweep.
  [[nodiscard]] virtual Result<std::string> scan(
      std::string_view store, std::int32_t partition, std::string_view after, std::size_t limit,
      const std::function<bool(std::string_view key, const Stored&)>& fn) = 0;

  // Compacts every store now, applying expiry (tests; ops after a large expiry).
  [[nodiscard]] virtual Status compact() = 0;

  virtual StoreStats stats() const = 0;
};

// The RocksDB store. Errors opening it (a path that is not writable, a database of another
// layout) are returned with the path and RocksDB's reason.
[[nodiscard]] Result<std::unique_ptr<Store>> open_rocksdb_store(const StoreOptions& options);

// Encoding shared with the changelog: a stored value is an 8-byte expiry then the bytes.
std::string encode_stored(std::string_view value, TimestampMs expire_at);
[[nodiscard]] bool decode_stored(std::string_view raw, Stored& out);

}  // namespace vigil::state
