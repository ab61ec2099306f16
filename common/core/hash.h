#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// 64-bit FNV-1a. Stable across platforms and releases: flag ids are derived from it, and a
// replay must produce the ids it produced before. Not for anything adversarial.
class Fnv1a64 {
 public:
  Fnv1a64& add(std::string_view bytes);
  // Adds a separator byte too, so ("ab","c") and ("a","bc") hash differently.
  Fnv1a64& field(std::string_view bytes) { return add(bytes).add(std::string_view("\x1f", 1)); }
  std::uint64_t value() const { return state_; }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

// The partition a keyed record lands in with Kafka's default partitioner (murmur2 of the key,
// as the Java clients and librdkafka's murmur2_random do), so offline runs place entities as
// online ones do.
std::int32_t kafka_partition_for_key(std::string_view key, std::int32_t partitions);

// 16 lower-case hex digits.
std::string hex64(std::uint64_t v);

}  // namespace vigil
