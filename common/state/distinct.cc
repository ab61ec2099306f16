#include "common/state/distinct.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/core/hash.h"

namespace vigil::state {
namespace {

// splitmix64's finaliser: FNV-1a's low bits are too regular to pick HyperLogLog registers.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t id_of(std::string_view value) {
  return mix(Fnv1a64().add(value).value());
}

bool DistinctCounter::contains(std::uint64_t id) const {
  return exact() && std::binary_search(ids_.begin(), ids_.end(), id);
}

bool DistinctCounter::add(std::uint64_t id) {
  if (!exact()) {
    const auto before = registers_;
    add_to_sketch(id);
    return registers_ != before;
  }
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it != ids_.end() && *it == id) return false;
  ids_.insert(it, id);
  if (ids_.size() > exact_limit_) to_sketch();
  return true;
}

void DistinctCounter::add_to_sketch(std::uint64_t id) {
  const std::uint64_t h = mix(id);
  const auto index = static_cast<std::size_t>(h >> (64 - kPrecision));
  const std::uint64_t rest = (h << kPrecision) | (std::uint64_t{1} << (kPrecision - 1));
  const auto rank = static_cast<std::uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void DistinctCounter::to_sketch() {
  registers_.assign(kRegisters, 0);
  for (const auto id : ids_) add_to_sketch(id);
  ids_.clear();
  ids_.shrink_to_fit();
}

std::uint64_t DistinctCounter::count() const {
  if (exact()) return ids_.size();
  const double m = static_cast<double>(kRegisters);
  double sum = 0;
  std::size_t zeros = 0;
  for (const auto r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0) ++zeros;
  }
  const double alpha = 0.7213 / (1.0 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) estimate = m * std::log(m / static_cast<double>(zeros));
  // The sketch only starts above the exact limit; never report fewer than that.
  return std::max<std::uint64_t>(static_cast<std::uint64_t>(std::llround(estimate)), exact_limit_ + 1);
}

void DistinctCounter::encode(Encoder& out) const {
  if (exact()) {
    out.varint(0).varint(ids_.size());
    for (const auto id : ids_) out.fixed64(id);
    return;
  }
  out.varint(1).bytes(std::string_view(reinterpret_cast<const char*>(registers_.data()), registers_.size()));
}

bool DistinctCounter::decode(Decoder& in) {
  ids_.clear();
  registers_.clear();
  std::uint64_t mode = 0;
  if (!in.varint(mode)) return false;
  if (mode == 0) {
    std::uint64_t n = 0;
    if (!in.varint(n) || n > exact_limit_ || n * 8 > in.rest().size()) return false;
    ids_.resize(n);
    for (auto& id : ids_) {
      if (!in.fixed64(id)) return false;
    }
    return std::is_sorted(ids_.begin(), ids_.end()) && std::adjacent_find(ids_.begin(), ids_.end()) == ids_.end();
  }
  std::string_view regs;
  if (mode != 1 || !in.bytes(regs) || regs.size() != kRegisters) return false;
  registers_.assign(regs.begin(), regs.end());
  return std::all_of(registers_.begin(), registers_.end(), [](std::uint8_t r) { return r <= 64 - kPrecision + 1; });
}

}  // namespace vigil::state
