// Hot paths of stage A, each alone and together, on the bundled sample records.
// Run: build/release/bench/stage_a_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "common/adapters/adapter.h"
#include "common/detect/detector.h"
#include "common/detect/rule_pack.h"
#include "common/io/file/file_io.h"
#include "common/text/text.h"
#include "common/topology/stage_a.h"

namespace {

std::vector<vigil::io::Record> samples() {
  static const auto records = [] {
    auto src = vigil::io::open_file_source({std::string(VIGIL_SOURCE_DIR) + "/samples/sample-stream.jsonl"});
    std::vector<vigil::io::Record> out;
    while (!src.value()->at_end()) (void)src.value()->poll(out, 1000, std::chrono::milliseconds(0));
    return out;
  }();
  return records;
}

std::shared_ptr<const vigil::detect::RulePack> pack() {
  static const auto p = vigil::detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml").value();
  return p;
}

std::size_t total_bytes(const std::vector<vigil::io::Record>& rs) {
  std::size_t n = 0;
  for (const auto& r : rs) n += r.value ? r.value->size() : 0;
  return n;
}

void BM_TelegramAdapter(benchmark::State& state) {
  const auto records = samples();
  const std::string payload = *records[0].value;
  auto adapter = vigil::make_adapter("telegram");
  vigil::Event event;
  for (auto _ : state) {
    benchmark::DoNotOptimize(adapter->parse(payload, event));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_TelegramAdapter);

void BM_Fold(benchmark::State& state) {
  const std::string text =
      "🔥 Bán DATA khách hàng mới 2024: data chủ xe, data bảo hiểm, lọc theo khu vực. Giá rẻ, bảo hành 1 đổi 1.";
  vigil::text::Folded folded;
  for (auto _ : state) {
    vigil::text::fold(text, folded);
    benchmark::DoNotOptimize(folded.text.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Fold);

void BM_Detect(benchmark::State& state) {
  vigil::Event event;
  event.event_id = "telegram:1:1";
  event.text =
      "Tài khoản của quý khách đang bị tạm khóa. Xác thực tại vietcombamk.com.vn/xac-thuc ngay. Zalo 0912345678";
  vigil::detect::Detector detector(pack());
  std::vector<vigil::detect::Finding> findings;
  for (auto _ : state) {
    findings.clear();
    detector.detect(event, findings);
    benchmark::DoNotOptimize(findings.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * event.text.size()));
}
BENCHMARK(BM_Detect);

// The whole of stage A per record: adapter, folding, extraction, rules, flag JSON.
void BM_StageA(benchmark::State& state) {
  const auto records = samples();
  vigil::topology::StageA stage(vigil::default_detector_config(), pack(), [] { return vigil::TimestampMs{0}; });
  std::vector<vigil::io::Record> out;
  vigil::topology::Stats stats;
  for (auto _ : state) {
    out.clear();
    for (const auto& r : records) benchmark::DoNotOptimize(stage.process(r, out, stats));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(records)));
}
BENCHMARK(BM_StageA);

}  // namespace

BENCHMARK_MAIN();
