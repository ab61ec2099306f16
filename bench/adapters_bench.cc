// Stage A's front half on a generated corpus of realistic records (bench/corpus): simdjson
// alone iterating every field, then adapter parse, + normalisation, + entity extraction.
// Prints MB/s per core, the ratio of each to simdjson alone, and heap allocations per record
// (counted by replacing the global operator new in this binary).
//   build/release/bench/adapters_bench [--records=N] [benchmark flags]
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>

#include "bench/corpus/corpus.h"
#include "common/adapters/adapter.h"
#include "common/core/config.h"
#include "common/detect/detector.h"
#include "common/detect/rule_pack.h"
#include "common/extract/extract.h"
#include "common/text/text.h"

namespace {

std::atomic<std::uint64_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

namespace od = simdjson::ondemand;

std::size_t g_records = 100000;

const std::vector<vigil::io::Record>& corpus() {
  static const auto records = vigil::bench::generate_corpus({g_records, 42, 0.1, 200, 1700});
  return records;
}

std::size_t corpus_bytes() {
  static const std::size_t bytes = [] {
    std::size_t n = 0;
    for (const auto& r : corpus()) n += r.value->size();
    return n;
  }();
  return bytes;
}

// Touches every value: strings unescaped, numbers parsed, containers walked.
simdjson::error_code visit(od::value v, std::size_t& sink) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto field : o) {
        od::field f;
        if (auto e = std::move(field).get(f)) return e;
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) return e;
        sink += key.size();
        if (auto e = visit(f.value(), sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto element : a) {
        od::value item;
        if (auto e = std::move(element).get(item)) return e;
        if (auto e = visit(item, sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      sink += s.size();
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      double d = 0;
      if (auto e = v.get_double().get(d)) return e;
      sink += static_cast<std::size_t>(d != 0);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto e = v.get_bool().get(b)) return e;
      sink += b;
      return simdjson::SUCCESS;
    }
    case od::json_type::null: return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

// The adapter of each input topic of the default config.
std::map<std::string, std::unique_ptr<vigil::Adapter>> make_adapters() {
  std::map<std::string, std::unique_ptr<vigil::Adapter>> adapters;
  for (const auto& input : vigil::default_detector_config().inputs)
    adapters[input.topic] = vigil::make_adapter(input.adapter);
  return adapters;
}

// Each corpus record's adapter, looked up before timing: a worker picks the adapter per topic,
// not per record, and a string-keyed map lookup per record was 1-2 % of a timed loop.
std::vector<vigil::Adapter*> adapters_by_record(
    const std::map<std::string, std::unique_ptr<vigil::Adapter>>& adapters) {
  std::vector<vigil::Adapter*> by_record;
  for (const auto& r : corpus()) by_record.push_back(adapters.at(r.topic).get());
  return by_record;
}

// The bundled pack, or null with the benchmark marked as skipped (the reason is the loader's).
std::shared_ptr<const vigil::detect::RulePack> core_pack_or_skip(benchmark::State& state) {
  auto pack = vigil::detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  if (!pack.is_ok()) {
    state.SkipWithError(pack.status().message().c_str());
    return nullptr;
  }
  return pack.value();
}

double per_record(const benchmark::State& state, std::size_t count) {
  return static_cast<double>(count) / static_cast<double>(state.iterations() * corpus().size());
}

void finish(benchmark::State& state, std::uint64_t allocations_before) {
  const auto records = static_cast<std::int64_t>(state.iterations() * corpus().size());
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus_bytes()));
  state.counters["allocs_per_record"] =
      static_cast<double>(g_allocations.load() - allocations_before) / static_cast<double>(records);
}

// One pass of simdjson alone over the corpus: the padded copy, then every field visited.
struct SimdjsonAlone {
  od::parser parser;
  std::string buffer;
  std::size_t sink = 0;

  void pass() {
    for (const auto& r : corpus()) {
      const std::string& payload = *r.value;
      // The same padded-copy step the adapters do, so only the field handling differs.
      if (buffer.size() < payload.size() + simdjson::SIMDJSON_PADDING)
        buffer.resize(payload.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(buffer.data(), payload.data(), payload.size());
      od::document doc;
      if (parser.iterate(buffer.data(), payload.size(), buffer.size()).get(doc)) continue;
      od::value root;
      if (doc.get_value().get(root)) continue;
      (void)visit(root, sink);
    }
  }
};

void BM_SimdjsonAlone(benchmark::State& state) {
  SimdjsonAlone simdjson;
  corpus();
  const auto before = g_allocations.load();
  for (auto _ : state) simdjson.pass();
  benchmark::DoNotOptimize(simdjson.sink);
  finish(state, before);
}

enum class Stage { kParse, kNormalise, kExtract };

// One pass of the front half up to `kStage` over the corpus (BM_Parse, BM_ParseNormalise,
// BM_ParseNormaliseExtract).
template <Stage kStage>
struct FrontHalf {
  std::map<std::string, std::unique_ptr<vigil::Adapter>> adapters = make_adapters();
  std::vector<vigil::Adapter*> by_record = adapters_by_record(adapters);
  vigil::Event event;
  vigil::text::Folded folded;
  vigil::extract::EntityList entities;
  std::size_t failures = 0, found = 0;

  void pass() {
    const auto& records = corpus();
    for (std::size_t k = 0; k < records.size(); ++k) {
      const auto& r = records[k];
      event.source.record_timestamp = r.timestamp;
      if (!by_record[k]->parse(*r.value, event).is_ok()) ++failures;
      if constexpr (kStage != Stage::kParse) vigil::text::fold(event.text, folded);
      if constexpr (kStage == Stage::kExtract) {
        entities.clear();
        vigil::extract::extract_all(event.text, folded, event.event_time, entities);
        found += entities.size();
      }
    }
  }
};

// Issue #3's ratio, steadier on a noisy machine than separate benchmarks: whole-corpus passes
// of simdjson alone and of parse + normalise + extract, alternating, each timed; the counters
// give the fastest pass of each and their ratio (noise only adds time, and a burst tends to
// fall on neighbouring passes alike). Both read the corpus from memory, as the others do.
void BM_FrontHalfRatio(benchmark::State& state) {
  SimdjsonAlone simdjson;
  FrontHalf<Stage::kExtract> front;
  front.pass();  // buffers reach their steady size
  using Clock = std::chrono::steady_clock;
  double best_simdjson = 1e30, best_front = 1e30;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    simdjson.pass();
    const auto t1 = Clock::now();
    front.pass();
    const auto t2 = Clock::now();
    best_simdjson = std::min(best_simdjson, std::chrono::duration<double>(t1 - t0).count());
    best_front = std::min(best_front, std::chrono::duration<double>(t2 - t1).count());
  }
  benchmark::DoNotOptimize(simdjson.sink + front.found);
  const auto bytes = static_cast<double>(corpus_bytes());
  state.counters["simdjson_MBps"] = bytes / best_simdjson / 1e6;
  state.counters["front_half_MBps"] = bytes / best_front / 1e6;
  state.counters["ratio_pct"] = 100.0 * best_simdjson / best_front;
}

template <Stage kStage>
void BM_Adapters(benchmark::State& state) {
  FrontHalf<kStage> front;
  // One warm-up pass so that buffers reach their steady size before counting.
  front.pass();
  front.failures = 0;
  const auto before = g_allocations.load();
  for (auto _ : state) front.pass();
  const std::size_t found = front.found, failures = front.failures;
  benchmark::DoNotOptimize(found);
  finish(state, before);
  if (failures > 0) state.SkipWithError("a generated record failed to parse");
}

// The whole content analysis of stage A: parse, then the detector (which folds, extracts, scans
// all phrase rules with Hyperscan and checks brand lookalikes). Compared with
// BM_ParseNormaliseExtract it shows what detection itself adds.
void BM_ParseDetect(benchmark::State& state) {
  const auto pack = core_pack_or_skip(state);
  if (pack == nullptr) return;
  const auto adapters = make_adapters();
  const auto by_record = adapters_by_record(adapters);
  const auto& records = corpus();
  vigil::detect::Detector detector(pack);
  vigil::Event event;
  std::vector<vigil::detect::Finding> findings;
  std::size_t flagged = 0;
  for (std::size_t k = 0; k < records.size(); ++k) {
    (void)by_record[k]->parse(*records[k].value, event);
    findings.clear();
    detector.detect(event, findings);
  }
  const auto before = g_allocations.load();
  for (auto _ : state) {
    for (std::size_t k = 0; k < records.size(); ++k) {
      const auto& r = records[k];
      event.source.record_timestamp = r.timestamp;
      (void)by_record[k]->parse(*r.value, event);
      findings.clear();
      detector.detect(event, findings);
      flagged += !findings.empty();
    }
  }
  benchmark::DoNotOptimize(flagged);
  finish(state, before);
  state.counters["flagged_share"] = per_record(state, flagged);
}

// The one Hyperscan scan of all phrase rules, alone, over texts folded beforehand: the part of
// detection that grows with the pack.
void BM_PhraseScan(benchmark::State& state) {
  const auto pack = core_pack_or_skip(state);
  if (pack == nullptr) return;
  if (!pack->matcher) {
    state.SkipWithError("rules/vn-core.yaml has no phrases");
    return;
  }
  const vigil::detect::PhraseMatcher& matcher = *pack->matcher;
  auto adapters = make_adapters();
  std::vector<std::string> texts;
  vigil::Event event;
  vigil::text::Folded folded;
  for (const auto& r : corpus()) {
    (void)adapters[r.topic]->parse(*r.value, event);
    vigil::text::fold(event.text, folded);
    texts.push_back(folded.text);
  }
  vigil::detect::PhraseMatcher::Scratch scratch(matcher);
  std::vector<vigil::detect::PhraseMatcher::Match> matches;
  std::size_t found = 0;
  const auto before = g_allocations.load();
  for (auto _ : state) {
    for (const auto& t : texts) {
      if (!matcher.scan(t, scratch, matches).is_ok()) state.SkipWithError("scan failed");
      found += matches.size();
    }
  }
  benchmark::DoNotOptimize(found);
  finish(state, before);
  state.counters["matches_per_record"] = per_record(state, found);
}

// Issue #4's measure, robust to a noisy machine: per record, parse, then fold + extract and
// the detector (which folds and extracts again) timed back to back in alternating order, so
// that noise falls on both alike. Reports the time detection adds to parse + normalise +
// extract as the counter detection_adds (0.30 = 30 %).
void BM_DetectionCost(benchmark::State& state) {
  const auto pack = core_pack_or_skip(state);
  if (pack == nullptr) return;
  const auto adapters = make_adapters();
  const auto by_record = adapters_by_record(adapters);
  const auto& records = corpus();
  vigil::detect::Detector detector(pack);
  vigil::Event event;
  vigil::text::Folded folded;
  vigil::extract::EntityList entities;
  std::vector<vigil::detect::Finding> findings;
  using Clock = std::chrono::steady_clock;
  Clock::duration parse{}, front{}, detect{};
  std::size_t n = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < records.size(); ++k) {
      const auto& r = records[k];
      const auto t0 = Clock::now();
      event.source.record_timestamp = r.timestamp;
      (void)by_record[k]->parse(*r.value, event);
      const auto t1 = Clock::now();
      parse += t1 - t0;
      auto run_front = [&] {
        const auto a = Clock::now();
        vigil::text::fold(event.text, folded);
        entities.clear();
        vigil::extract::extract_all(event.text, folded, event.event_time, entities);
        front += Clock::now() - a;
      };
      auto run_detect = [&] {
        const auto a = Clock::now();
        findings.clear();
        detector.detect(event, findings);
        detect += Clock::now() - a;
      };
      if (++n % 2 == 0) {
        run_front();
        run_detect();
      } else {
        run_detect();
        run_front();
      }
    }
  }
  benchmark::DoNotOptimize(entities.size());
  const double p = std::chrono::duration<double>(parse).count();
  const double f = std::chrono::duration<double>(front).count();
  const double d = std::chrono::duration<double>(detect).count();
  state.counters["detection_adds"] = (p + d) / (p + f) - 1.0;
  state.counters["us_parse"] = 1e6 * p / static_cast<double>(n);
  state.counters["us_fold_extract"] = 1e6 * f / static_cast<double>(n);
  state.counters["us_detect"] = 1e6 * d / static_cast<double>(n);
}

// With --benchmark_repetitions=N the summary below uses each benchmark's fastest repetition:
// on a shared VM noise only ever adds time, so the minimum is the steadiest estimate.
double fastest(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

BENCHMARK(BM_SimdjsonAlone)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", fastest);
BENCHMARK(BM_Adapters<Stage::kParse>)
    ->Name("BM_Parse")
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", fastest);
BENCHMARK(BM_Adapters<Stage::kNormalise>)
    ->Name("BM_ParseNormalise")
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", fastest);
BENCHMARK(BM_Adapters<Stage::kExtract>)
    ->Name("BM_ParseNormaliseExtract")
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", fastest);
BENCHMARK(BM_ParseDetect)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", fastest);
BENCHMARK(BM_PhraseScan)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", fastest);
BENCHMARK(BM_DetectionCost)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FrontHalfRatio)->Unit(benchmark::kMillisecond)->Iterations(12);

// Remembers each benchmark's throughput to print ratios to simdjson alone at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "min") continue;
      if (const auto a = run.counters.find("allocs_per_record"); a != run.counters.end())
        allocations_[name] = a->second;
      if (run.run_type == Run::RT_Aggregate) {
        // The fastest repetition's CPU time (a minimum of rates would be the slowest).
        const double seconds = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
        if (seconds > 0) throughput_[name] = static_cast<double>(corpus_bytes()) / seconds;
        continue;
      }
      if (const auto it = run.counters.find("bytes_per_second"); it != run.counters.end())
        throughput_.emplace(name, it->second);  // single runs: the first; repetitions: the min replaces it
    }
  }
  void PrintRatios() const {
    double simdjson = 0;
    for (const auto& [name, bps] : throughput_) {
      if (name == "BM_SimdjsonAlone") simdjson = bps;
    }
    std::printf("\n%-40s %10s %16s %18s\n", "stage", "MB/s", "x simdjson alone", "allocs per record");
    for (const auto& [name, bps] : throughput_) {
      std::printf("%-40s %10.1f %15.1f%% %18.2f\n", name.c_str(), bps / 1e6,
                  simdjson > 0 ? 100.0 * bps / simdjson : 0.0, allocations_.at(name));
    }
    // Issue #4's measure: the time detection adds to parse + normalise + extract.
    auto rate = [&](const std::string& name) {
      const auto it = throughput_.find(name);
      return it != throughput_.end() ? it->second : 0.0;
    };
    if (const double extract = rate("BM_ParseNormaliseExtract"), detect = rate("BM_ParseDetect");
        extract > 0 && detect > 0)
      std::printf("detection adds %.0f%% to the time of parse + normalise + extract\n",
                  100.0 * (extract / detect - 1.0));
    std::printf("corpus: %zu records, %.1f MB, %.0f bytes per record on average\n", corpus().size(),
                corpus_bytes() / 1e6, static_cast<double>(corpus_bytes()) / static_cast<double>(corpus().size()));
  }

 private:
  std::map<std::string, double> throughput_;
  std::map<std::string, double> allocations_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a.starts_with("--records=")) {
      g_records = std::strtoull(argv[i] + 10, nullptr, 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
