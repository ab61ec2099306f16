// Any bytes through every platform adapter: no crash, no hang, and a successful parse yields
// an event with an id and valid UTF-8 text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/adapters/adapter.h"
#include "common/core/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* kNames[] = {"facebook", "tiktok", "telegram", "zalo", "report", "canonical"};
  static auto adapters = [] {
    std::vector<std::unique_ptr<vigil::Adapter>> v;
    for (const char* n : kNames) v.push_back(vigil::make_adapter(n, {1 << 16, 32}));
    return v;
  }();
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  vigil::Event event;
  const auto status = adapters[data[0] % adapters.size()]->parse(payload, event);
  if (status.is_ok()) {
    if (event.event_id.empty() || !vigil::is_valid_utf8(event.text)) __builtin_trap();
  } else if (status.kind == vigil::ParseStatus::Kind::kError && status.reason.empty()) {
    __builtin_trap();
  }
  return 0;
}
