#include "common/topology/state_probe.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace vigil::topology {

struct StateProbe::Families {
  prometheus::Gauge& restoring;
  prometheus::Histogram& restore_seconds;
  prometheus::Counter& restored_records;
  prometheus::Counter& late;
  prometheus::Counter& updates;
  prometheus::Counter& corrupt_state;
  prometheus::Gauge& live_bytes;
  prometheus::Gauge& sst_bytes;
  prometheus::Gauge& memtable_bytes;
  prometheus::Gauge& pending_compaction;
  prometheus::Gauge& cache_usage;
  prometheus::Gauge& cache_capacity;
};

namespace {

prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}
prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

StateProbe::StateProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health,
                       const std::string& rule_pack, const state::Store& store)
    : runner_(registry, health, rule_pack, "vigil_state_", health->add_part()),
      health_(health),
      restore_part_(health->add_part()),
      store_(store) {
  families_.reset(new Families{
      gauge(registry, "vigil_restoring_partitions", "Assigned partitions whose state is being restored"),
      prometheus::BuildHistogram()
          .Name("vigil_restore_seconds")
          .Help("Time to restore one partition's state from the changelog")
          .Register(registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900}),
      counter(registry, "vigil_state_restored_records_total", "Changelog records applied by restores"),
      counter(registry, "vigil_state_late_observations_total",
              "Observations later than the grace period for every window (not counted)"),
      counter(registry, "vigil_state_flag_updates_total", "Update records of stateful flags (the count doubled)"),
      counter(registry, "vigil_state_corrupt_values_total", "Stored state values that did not decode (reset)"),
      gauge(registry, "vigil_rocksdb_live_bytes", "RocksDB estimate of live data"),
      gauge(registry, "vigil_rocksdb_sst_bytes", "RocksDB SST files on disk"),
      gauge(registry, "vigil_rocksdb_memtable_bytes", "RocksDB memtables"),
      gauge(registry, "vigil_rocksdb_pending_compaction_bytes", "RocksDB estimate of bytes compaction must rewrite"),
      gauge(registry, "vigil_rocksdb_block_cache_usage_bytes", "RocksDB block cache in use"),
      gauge(registry, "vigil_rocksdb_block_cache_capacity_bytes", "RocksDB block cache size"),
  });
  health_->set_ready(true, restore_part_);  // nothing assigned, nothing to restore
  sample_store();
}

StateProbe::~StateProbe() = default;

void StateProbe::sample_store() {
  const auto s = store_.stats();
  families_->live_bytes.Set(static_cast<double>(s.live_data_bytes));
  families_->sst_bytes.Set(static_cast<double>(s.sst_files_bytes));
  families_->memtable_bytes.Set(static_cast<double>(s.memtable_bytes));
  families_->pending_compaction.Set(static_cast<double>(s.pending_compaction_bytes));
  families_->cache_usage.Set(static_cast<double>(s.block_cache_usage_bytes));
  families_->cache_capacity.Set(static_cast<double>(s.block_cache_capacity_bytes));
  last_sample_ = std::chrono::steady_clock::now();
}

void StateProbe::on_commit(const Stats& batch, double seconds, double commit_seconds) {
  runner_.on_commit(batch, seconds, commit_seconds);
  families_->late.Increment(static_cast<double>(batch.late));
  families_->updates.Increment(static_cast<double>(batch.updates));
  families_->corrupt_state.Increment(static_cast<double>(batch.corrupt_state));
  // RocksDB properties cost a little: once a second is plenty for a scrape every 15 s.
  if (std::chrono::steady_clock::now() - last_sample_ >= std::chrono::seconds(1)) sample_store();
}

void StateProbe::on_restoring(std::size_t partitions) {
  families_->restoring.Set(static_cast<double>(partitions));
  health_->set_ready(partitions == 0, restore_part_);
}

void StateProbe::on_restored(const Restored& restored) {
  families_->restore_seconds.Observe(restored.seconds);
  families_->restored_records.Increment(static_cast<double>(restored.records));
}

}  // namespace vigil::topology
