#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/state/codec.h"

namespace vigil::state {

// Counts distinct 64-bit ids (hashes of authors, reporters...): exactly while there are at
// most `exact_limit` of them, then as a HyperLogLog with 2^10 registers (about 3 % standard
// error, 1 KiB). Most entities are seen by one or two accounts, so the exact set keeps their
// state tiny; a viral domain costs at most 1 KiB per window. Counts never decrease.
// Value type; not thread-safe.
class DistinctCounter {
 public:
  static constexpr std::size_t kDefaultExactLimit = 64;
  static constexpr int kPrecision = 10;
  static constexpr std::size_t kRegisters = std::size_t{1} << kPrecision;

  DistinctCounter() : DistinctCounter(kDefaultExactLimit) {}
  explicit DistinctCounter(std::size_t exact_limit) : exact_limit_(exact_limit) {}

  // True when `id` was not counted before (for the HyperLogLog: when a register grew, which
  // is how a sketch can tell; the estimate may still round to the same count).
  bool add(std::uint64_t id);
  std::uint64_t count() const;
  bool exact() const { return registers_.empty(); }
  bool contains(std::uint64_t id) const;  // exact mode only; false once approximate

  void encode(Encoder& out) const;
  bool decode(Decoder& in);

 private:
  void to_sketch();
  void add_to_sketch(std::uint64_t id);

  std::size_t exact_limit_;
  std::vector<std::uint64_t> ids_;       // sorted, exact mode
  std::vector<std::uint8_t> registers_;  // HyperLogLog mode when non-empty
};

// A well-mixed 64-bit id for a string (author ids, entity values).
std::uint64_t id_of(std::string_view value);

}  // namespace vigil::state
