#include "common/core/hash.h"

namespace vigil {

Fnv1a64& Fnv1a64::add(std::string_view bytes) {
  for (unsigned char c : bytes) {
    state_ ^= c;
    state_ *= 0x100000001b3ULL;
  }
  return *this;
}

std::string hex64(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

std::int32_t kafka_partition_for_key(std::string_view key, std::int32_t partitions) {
  // Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), byte for byte.
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto len = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = 0x9747b28c ^ len;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::uint32_t blocks = len / 4;
  for (std::uint32_t i = 0; i < blocks; ++i) {
    std::uint32_t k = std::uint32_t{data[4 * i]} | (std::uint32_t{data[4 * i + 1]} << 8) |
                      (std::uint32_t{data[4 * i + 2]} << 16) | (std::uint32_t{data[4 * i + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::uint32_t tail = blocks * 4;
  switch (len % 4) {
    case 3: h ^= std::uint32_t{data[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{data[tail + 1]} << 8; [[fallthrough]];
    case 1: h ^= data[tail]; h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>((h & 0x7fffffff) % static_cast<std::uint32_t>(partitions));
}

}  // namespace vigil
