#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <map>
#include <shared_mutex>
#include <unordered_map>

#include "common/state/codec.h"
#include "common/state/store.h"

namespace vigil::state {

std::string encode_stored(std::string_view value, TimestampMs expire_at) {
  std::string out;
  out.reserve(8 + value.size());
  Encoder(out).fixed64(static_cast<std::uint64_t>(expire_at));
  out.append(value);
  return out;
}

bool decode_stored(std::string_view raw, Stored& out) {
  Decoder in(raw);
  std::uint64_t expire = 0;
  if (!in.fixed64(expire)) return false;
  out.expire_at = static_cast<TimestampMs>(expire);
  out.value.assign(in.rest());
  return true;
}

namespace {

constexpr std::string_view kMetaFamily = "vigil.meta";
constexpr std::string_view kCheckpointPrefix = "checkpoint/";

// Keys inside a column family: the partition big-endian (so one partition is one contiguous
// range, dropped with one DeleteRange) then the store's own key.
std::string partition_prefix(std::int32_t partition) {
  const auto p = static_cast<std::uint32_t>(partition);
  return {static_cast<char>(p >> 24), static_cast<char>((p >> 16) & 0xff), static_cast<char>((p >> 8) & 0xff),
          static_cast<char>(p & 0xff)};
}

std::string full_key(std::int32_t partition, std::string_view key) {
  std::string k = partition_prefix(partition);
  k.append(key);
  return k;
}

Status rocks_error(std::string_view what, const rocksdb::Status& s) {
  return io_error(std::string(what) + ": " + s.ToString());
}

// The stream time of each partition, shared with compaction threads.
class StreamTimes {
 public:
  void set(std::int32_t partition, TimestampMs t) {
    std::unique_lock lock(mu_);
    times_[partition] = t;
  }
  std::optional<TimestampMs> get(std::int32_t partition) const {
    std::shared_lock lock(mu_);
    const auto it = times_.find(partition);
    if (it == times_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::shared_mutex mu_;
  std::map<std::int32_t, TimestampMs> times_;
};

// Drops values whose event-time expiry is behind their partition's stream time. Partitions
// whose stream time is unknown (not assigned here) keep everything: their owner decides.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(const StreamTimes& times) : times_(times) {}
  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*, bool*) const override {
    if (key.size() < 4 || value.size() < 8) return false;
    const auto* k = reinterpret_cast<const unsigned char*>(key.data());
    const auto partition = static_cast<std::int32_t>((std::uint32_t{k[0]} << 24) | (std::uint32_t{k[1]} << 16) |
                                                     (std::uint32_t{k[2]} << 8) | std::uint32_t{k[3]});
    Stored stored;
    if (!decode_stored(std::string_view(value.data(), 8), stored) || stored.expire_at == 0) return false;
    const auto now = times_.get(partition);
    return now && stored.expire_at < *now;
  }
  const char* Name() const override { return "vigil.ExpiryFilter"; }

 private:
  const StreamTimes& times_;
};

class RocksStore final : public Store {
 public:
  ~RocksStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  Status open(const StoreOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    if (ec) return io_error("cannot create the state directory " + options.path + ": " + ec.message());
    filter_ = std::make_unique<ExpiryFilter>(times_);
    cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache_;
    // Most lookups are of entities seen for the first time: bloom filters answer "absent"
    // without touching data blocks, in SST files and in the memtable alike.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.memtable_whole_key_filtering = true;
    cf_options.memtable_prefix_bloom_size_ratio = 0.05;
    rocksdb::ColumnFamilyOptions state_options = cf_options;
    state_options.compaction_filter = filter_.get();

    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
    families.emplace_back(std::string(kMetaFamily), cf_options);
    for (const auto& name : options.stores) families.emplace_back(name, state_options);

    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.max_background_jobs = 2;
    rocksdb::DB* db = nullptr;
    const auto s = rocksdb::DB::Open(db_options, options.path, families, &handles_, &db);
    if (!s.ok()) return rocks_error("cannot open the state store at " + options.path, s);
    db_.reset(db);
    meta_ = handles_[1];
    for (std::size_t i = 0; i < options.stores.size(); ++i) families_[options.stores[i]] = handles_[i + 2];
    return Status::ok();
  }

  Result<std::optional<Stored>> get(std::string_view store, std::int32_t partition, std::string_view key) override {
    auto raw_value = raw(store, partition, key);
    if (!raw_value.is_ok()) return raw_value.status();
    if (!raw_value.value()) return std::optional<Stored>();
    Stored out;
    if (!decode_stored(*raw_value.value(), out))
      return internal_error("corrupt state value in " + std::string(store) + " (shorter than its header)");
    return std::optional<Stored>(std::move(out));
  }

  Result<std::optional<std::string>> raw(std::string_view store, std::int32_t partition,
                                         std::string_view key) override {
    auto* cf = family(store);
    if (cf == nullptr) return unknown(store);
    std::string k = full_key(partition, key);
    if (const auto it = pending_.find(PendingKey{cf, k}); it != pending_.end()) return it->second;
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), cf, k, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return rocks_error("state read", s);
    return std::optional<std::string>(std::move(value));
  }

  Status put(std::string_view store, std::int32_t partition, std::string_view key, std::string_view value,
             TimestampMs expire_at) override {
    auto* cf = family(store);
    if (cf == nullptr) return unknown(store);
    pending_.insert_or_assign(PendingKey{cf, full_key(partition, key)}, encode_stored(value, expire_at));
    return Status::ok();
  }

  Status erase(std::string_view store, std::int32_t partition, std::string_view key) override {
    auto* cf = family(store);
    if (cf == nullptr) return unknown(store);
    pending_.insert_or_assign(PendingKey{cf, full_key(partition, key)}, std::nullopt);
    return Status::ok();
  }

  Status commit(const std::vector<Checkpoint>& checkpoints) override {
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : pending_) {
      const auto s = v ? batch.Put(k.cf, k.key, *v) : batch.Delete(k.cf, k.key);
      if (!s.ok()) return rocks_error("state commit", s);
    }
    for (const auto& c : checkpoints) {
      std::string v;
      Encoder(v).fixed64(static_cast<std::uint64_t>(c.next_offset));
      if (const auto s = batch.Put(meta_, checkpoint_key(c.partition), v); !s.ok()) return rocks_error("checkpoint", s);
    }
    pending_.clear();
    const auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    return s.ok() ? Status::ok() : rocks_error("state commit", s);
  }

  void discard() override { pending_.clear(); }

  Status restore(const ChangelogEntry& entry) override {
    auto* cf = family(entry.store);
    if (cf == nullptr) return unknown(entry.store);
    const auto key = full_key(entry.partition, entry.key);
    const auto s = entry.value ? db_->Put(rocksdb::WriteOptions(), cf, key, *entry.value)
                               : db_->Delete(rocksdb::WriteOptions(), cf, key);
    return s.ok() ? Status::ok() : rocks_error("state restore", s);
  }

  Status restore(const std::vector<ChangelogEntry>& entries) override {
    rocksdb::WriteBatch batch;
    for (const auto& e : entries) {
      auto* cf = family(e.store);
      if (cf == nullptr) return unknown(e.store);
      const auto key = full_key(e.partition, e.key);
      const auto s = e.value ? batch.Put(cf, key, *e.value) : batch.Delete(cf, key);
      if (!s.ok()) return rocks_error("state restore", s);
    }
    const auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    return s.ok() ? Status::ok() : rocks_error("state restore", s);
  }

  Result<std::optional<Checkpoint>> checkpoint(std::int32_t partition) override {
    std::string v;
    const auto s = db_->Get(rocksdb::ReadOptions(), meta_, checkpoint_key(partition), &v);
    if (s.IsNotFound()) return std::optional<Checkpoint>();
    if (!s.ok()) return rocks_error("checkpoint read", s);
    Decoder in(v);
    std::uint64_t offset = 0;
    if (!in.fixed64(offset)) return internal_error("corrupt checkpoint of partition " + std::to_string(partition));
    return std::optional<Checkpoint>(Checkpoint{partition, static_cast<std::int64_t>(offset)});
  }

  Status set_checkpoint(const Checkpoint& c) override {
    std::string v;
    Encoder(v).fixed64(static_cast<std::uint64_t>(c.next_offset));
    const auto s = db_->Put(rocksdb::WriteOptions(), meta_, checkpoint_key(c.partition), v);
    return s.ok() ? Status::ok() : rocks_error("checkpoint", s);
  }

  Status drop_partition(std::int32_t partition) override {
    const auto begin = partition_prefix(partition);
    // The next partition's prefix, or past every 4-byte prefix for the last one.
    const std::string end = partition == -1 ? std::string(5, '\xff') : partition_prefix(partition + 1);
    for (const auto& [name, cf] : families_) {
      if (const auto s = db_->DeleteRange(rocksdb::WriteOptions(), cf, begin, end); !s.ok())
        return rocks_error("drop partition " + std::to_string(partition) + " of " + name, s);
    }
    const auto s = db_->Delete(rocksdb::WriteOptions(), meta_, checkpoint_key(partition));
    return s.ok() ? Status::ok() : rocks_error("drop checkpoint", s);
  }

  void set_stream_time(std::int32_t partition, TimestampMs stream_time) override { times_.set(partition, stream_time); }

  Result<std::string> scan(std::string_view store, std::int32_t partition, std::string_view after, std::size_t limit,
                           const std::function<bool(std::string_view, const Stored&)>& fn) override {
    auto* cf = family(store);
    if (cf == nullptr) return unknown(store);
    const auto prefix = partition_prefix(partition);
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
    std::string last;
    std::size_t seen = 0;
    for (it->Seek(full_key(partition, after)); it->Valid(); it->Next()) {
      const auto k = it->key();
      if (!k.starts_with(prefix)) return std::string();
      const std::string_view key(k.data() + 4, k.size() - 4);
      if (!after.empty() && key == after) continue;
      Stored stored;
      if (!decode_stored(std::string_view(it->value().data(), it->value().size()), stored)) continue;
      last.assign(key);
      if (!fn(key, stored) || ++seen >= limit) return last;
    }
    if (!it->status().ok()) return rocks_error("state scan", it->status());
    return std::string();
  }

  Status compact() override {
    for (const auto& [name, cf] : families_) {
      if (const auto s = db_->CompactRange(rocksdb::CompactRangeOptions(), cf, nullptr, nullptr); !s.ok())
        return rocks_error("compact " + name, s);
    }
    return Status::ok();
  }

  StoreStats stats() const override {
    StoreStats out;
    auto prop = [&](const std::string& name) {
      std::uint64_t v = 0;
      db_->GetAggregatedIntProperty(name, &v);
      return v;
    };
    out.live_data_bytes = prop(rocksdb::DB::Properties::kEstimateLiveDataSize);
    out.sst_files_bytes = prop(rocksdb::DB::Properties::kTotalSstFilesSize);
    out.memtable_bytes = prop(rocksdb::DB::Properties::kCurSizeAllMemTables);
    out.pending_compaction_bytes = prop(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
    out.block_cache_usage_bytes = cache_->GetUsage();
    out.block_cache_capacity_bytes = cache_->GetCapacity();
    return out;
  }

 private:
  static std::string checkpoint_key(std::int32_t partition) {
    std::string k(kCheckpointPrefix);
    k.append(partition_prefix(partition));
    return k;
  }
  rocksdb::ColumnFamilyHandle* family(std::string_view store) const {
    const auto it = families_.find(store);
    return it == families_.end() ? nullptr : it->second;
  }
  static Status unknown(std::string_view store) { return internal_error("no state store named " + std::string(store)); }

  StreamTimes times_;
  std::unique_ptr<ExpiryFilter> filter_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
  // Writes of the batch in progress, by (column family, key); nullopt deletes. A hash map,
  // not a WriteBatchWithIndex: reads hit it first and most keys are read and written several
  // times per batch; order only matters in the final WriteBatch, which RocksDB sorts anyway.
  struct PendingKey {
    rocksdb::ColumnFamilyHandle* cf;
    std::string key;
    bool operator==(const PendingKey&) const = default;
  };
  struct PendingHash {
    std::size_t operator()(const PendingKey& k) const {
      return std::hash<std::string_view>()(k.key) ^ std::hash<const void*>()(k.cf);
    }
  };
  std::unordered_map<PendingKey, std::optional<std::string>, PendingHash> pending_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const StoreOptions& options) {
  auto store = std::make_unique<RocksStore>();
  VIGIL_RETURN_IF_ERROR(store->open(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace vigil::state
