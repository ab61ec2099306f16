// Stage B alone on real RocksDB: observations per second on one core, bytes of state per
// tracked entity, and restore throughput from a changelog (issue #5, docs/performance.md).
// Run: build/release/bench/stage_b_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/detect/rule_pack.h"
#include "common/state/store.h"
#include "common/topology/restorer.h"
#include "common/topology/stage_b.h"

namespace {

using vigil::TimestampMs;
namespace topology = vigil::topology;

constexpr TimestampMs kT0 = 1'711'929'600'000;
constexpr std::int32_t kPartitions = 6;

std::shared_ptr<const vigil::detect::RulePack> pack() {
  static const auto p = vigil::detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml").value();
  return p;
}

// A day of observations: `entities` distinct entities (domains, phones, accounts, handles),
// Zipf-like popularity, 20 000 authors, a fifth of the events flagged, event time increasing.
std::vector<vigil::io::Record> observations(std::size_t count, std::size_t entities) {
  std::mt19937_64 rng(42);
  std::vector<vigil::io::Record> out;
  out.reserve(count);
  const char* types[] = {"domain", "phone", "account", "handle"};
  const char* flagged[] = {"fraud_link", "personal_data", "scam"};
  for (std::size_t i = 0; i < count; ++i) {
    topology::Observation o;
    // Popular entities come up far more often: the square of a uniform draw.
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const auto e = static_cast<std::size_t>(u * u * static_cast<double>(entities));
    o.type = types[e % 4];
    o.value = o.type == std::string("phone") ? "+849" + std::to_string(10000000 + e) : "e" + std::to_string(e) + ".top";
    o.event_id = "facebook:" + std::to_string(i);
    o.platform = "facebook";
    o.kind = (rng() % 10 == 0) ? "report" : "post";
    o.author = "facebook:" + std::to_string(rng() % 20000);
    o.event_time = kT0 + static_cast<TimestampMs>(i) * 86'400'000 / static_cast<TimestampMs>(count);
    if (rng() % 5 == 0) o.flagged.push_back(flagged[rng() % 3]);
    if (o.type == std::string("domain") && e % 7 == 0) o.brand = "vietcombank.com.vn";
    o.topic = "raw.facebook";
    o.offset = static_cast<std::int64_t>(i);
    vigil::io::Record r;
    r.topic = "vigil.observations";
    r.key = topology::observation_key(o.type, o.value);
    r.partition = static_cast<std::int32_t>(std::hash<std::string>()(*r.key) % kPartitions);
    r.offset = static_cast<std::int64_t>(i);
    r.value.emplace();
    topology::encode_observation(o, *r.value);
    out.push_back(std::move(r));
  }
  return out;
}

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-stage-b-bench-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

// A changelog kept in memory, for the restore benchmark.
class MemoryChangelog final : public topology::ChangelogReader {
 public:
  vigil::Result<std::int64_t> read(std::int32_t partition, std::int64_t from,
                                   const std::function<bool(const vigil::io::Record&)>& fn) override {
    auto& log = logs[partition];
    for (auto i = static_cast<std::size_t>(from); i < log.size(); ++i) {
      if (!fn(log[i])) break;
    }
    return static_cast<std::int64_t>(log.size());
  }
  std::map<std::int32_t, std::vector<vigil::io::Record>> logs;
  std::size_t bytes = 0;
};

// Runs `records` through stage B in batches of 500 (process, finish, commit), collecting the
// changelog into `log` when given. Returns the fraud_ring flags and updates it raised.
std::size_t run(topology::StageB& b, const std::vector<vigil::io::Record>& records, MemoryChangelog* log) {
  std::vector<vigil::io::Record> out;
  topology::Stats stats;
  std::size_t rings = 0;
  for (std::size_t i = 0; i < records.size(); i += 500) {
    out.clear();
    for (std::size_t j = i; j < std::min(records.size(), i + 500); ++j)
      benchmark::DoNotOptimize(b.process(records[j], out, stats));
    benchmark::DoNotOptimize(b.finish_batch(out, stats));
    for (const auto& r : out) rings += r.topic == "flags.fraud_ring";
    std::vector<vigil::io::TopicPartitionOffset> delivered;
    if (log != nullptr) {
      for (auto& r : out) {
        if (r.topic != "vigil.changelog") continue;
        log->bytes += r.key->size() + (r.value ? r.value->size() : 0);
        log->logs[r.partition].push_back(std::move(r));
      }
      for (const auto& [p, l] : log->logs)
        delivered.push_back({"vigil.changelog", p, static_cast<std::int64_t>(l.size())});
    }
    benchmark::DoNotOptimize(b.committed(delivered));
  }
  return rings;
}

void BM_StageB_Observations(benchmark::State& state) {
  const auto records = observations(200'000, static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for (const auto& r : records) bytes += r.value->size();
  double state_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = scratch("observations");
    auto store = vigil::state::open_rocksdb_store({dir.string(), topology::stage_b_stores()}).value();
    MemoryChangelog log;
    topology::Restorer restorer(*store, log, topology::stage_b_stores());
    topology::StageB b(vigil::default_detector_config(), pack(), *store, &restorer, [] { return TimestampMs{0}; });
    state.ResumeTiming();
    run(b, records, &log);
    state.PauseTiming();
    (void)store->compact();
    const auto s = store->stats();
    state_bytes = static_cast<double>(s.sst_files_bytes);
    state.counters["changelog_bytes_per_observation"] = static_cast<double>(log.bytes) / records.size();
    store.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["state_bytes_per_entity"] = state_bytes / static_cast<double>(state.range(0));
}
BENCHMARK(BM_StageB_Observations)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_StageB_Restore(benchmark::State& state) {
  // The changelog of a day of observations, then restored into an empty store.
  const auto records = observations(200'000, 20'000);
  MemoryChangelog log;
  {
    const auto dir = scratch("restore-source");
    auto store = vigil::state::open_rocksdb_store({dir.string(), topology::stage_b_stores()}).value();
    topology::Restorer restorer(*store, log, topology::stage_b_stores());
    topology::StageB b(vigil::default_detector_config(), pack(), *store, &restorer, [] { return TimestampMs{0}; });
    run(b, records, &log);
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::size_t entries = 0;
  for (const auto& [p, l] : log.logs) entries += l.size();
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = scratch("restore");
    auto store = vigil::state::open_rocksdb_store({dir.string(), topology::stage_b_stores()}).value();
    {
      topology::Restorer restorer(*store, log, topology::stage_b_stores());
      state.ResumeTiming();
      for (std::int32_t p = 0; p < kPartitions; ++p) benchmark::DoNotOptimize(restorer.wait(p));
      state.PauseTiming();
    }
    store.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * log.bytes));
}
BENCHMARK(BM_StageB_Restore)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// The ring coordinator alone: `events` link messages (2..5 ring entities each out of 50 000,
// skewed popularity, a fifth flagged), and every 500 links a watermark from each partition,
// a minute behind; links applied per second on one core.
std::vector<vigil::io::Record> ring_messages(std::size_t events) {
  std::mt19937_64 rng(7);
  const char* types[] = {"domain", "phone", "account", "handle", "bank_account"};
  std::vector<vigil::io::Record> out;
  const auto message = [&](const topology::Observation& o) {
    vigil::io::Record& r = out.emplace_back();
    r.topic = "vigil.observations";
    r.key = "ring:coordinator";
    r.offset = static_cast<std::int64_t>(out.size());
    r.value.emplace();
    topology::encode_observation(o, *r.value);
  };
  for (std::size_t i = 0; i < events; ++i) {
    const TimestampMs t = kT0 + static_cast<TimestampMs>(i) * 86'400'000 / static_cast<TimestampMs>(events);
    std::vector<std::string> keys;
    for (int n = 2 + static_cast<int>(rng() % 4); n > 0; --n) {
      const double u = std::uniform_real_distribution<double>(0, 1)(rng);
      const auto e = static_cast<std::size_t>(u * u * 50'000);
      keys.push_back(std::string(types[e % 5]) + ":e" + std::to_string(e));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    topology::Observation o;
    o.type = "ring";
    o.value = "coordinator";
    o.event_id = "facebook:" + std::to_string(i);
    o.platform = "facebook";
    o.kind = "post";
    o.event_time = t;
    o.msg = "link";
    o.member = keys.front();
    o.links.assign(keys.begin() + 1, keys.end());
    o.member_flagged = rng() % 5 == 0;
    message(o);
    if (i % 500 == 499) {
      for (std::int32_t p = 0; p < kPartitions; ++p) {
        topology::Observation w;
        w.type = "ring";
        w.value = "coordinator";
        w.event_id = "wm";
        w.event_time = t - 60'000;
        w.msg = "wm";
        w.from_partition = p;
        message(w);
      }
    }
  }
  return out;
}

void BM_StageB_RingCoordinator(benchmark::State& state) {
  constexpr std::size_t kEvents = 100'000;
  const auto records = ring_messages(kEvents);
  double rings = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = scratch("rings");
    auto store = vigil::state::open_rocksdb_store({dir.string(), topology::stage_b_stores()}).value();
    MemoryChangelog log;
    topology::Restorer restorer(*store, log, topology::stage_b_stores());
    topology::StageB b(vigil::default_detector_config(), pack(), *store, &restorer, [] { return TimestampMs{0}; });
    state.ResumeTiming();
    rings += static_cast<double>(run(b, records, nullptr));
    state.PauseTiming();
    store.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.counters["ring_flags_and_updates"] = rings / static_cast<double>(state.iterations());
}
BENCHMARK(BM_StageB_RingCoordinator)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
