#include "common/io/record.h"

#include <map>

namespace vigil::io {
namespace {

template <typename Pick>
std::vector<TopicPartitionOffset> collect(const std::vector<Record>& batch, Pick pick) {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> by_partition;
  for (const auto& r : batch) {
    if (r.offset < 0) continue;
    const auto key = std::make_pair(r.topic, r.partition);
    auto [it, inserted] = by_partition.emplace(key, r.offset);
    if (!inserted) it->second = pick(it->second, r.offset);
  }
  std::vector<TopicPartitionOffset> out;
  for (const auto& [tp, offset] : by_partition) out.push_back({tp.first, tp.second, offset});
  return out;
}

}  // namespace

std::vector<TopicPartitionOffset> next_offsets(const std::vector<Record>& batch) {
  auto out = collect(batch, [](std::int64_t a, std::int64_t b) { return std::max(a, b); });
  for (auto& tpo : out) ++tpo.offset;
  return out;
}

std::vector<TopicPartitionOffset> first_offsets(const std::vector<Record>& batch) {
  return collect(batch, [](std::int64_t a, std::int64_t b) { return std::min(a, b); });
}

}  // namespace vigil::io
