#pragma once

// Private to vigil_extract: searches for any byte of a fixed set. libstdc++'s find_first_of
// calls memchr over the set once per byte of the searched text, and the URL code searches
// every dotted token of a post that way ("/?#:", "/?"): that was the largest single cost of
// extraction's URL step. Here a set is a 256-bit map built at compile time.

#include <array>
#include <cstdint>
#include <string_view>

namespace vigil::extract::detail {

class ByteSet {
 public:
  constexpr explicit ByteSet(std::string_view bytes) {
    for (const char c : bytes) {
      const auto b = static_cast<unsigned char>(c);
      bits_[b >> 6] |= std::uint64_t{1} << (b & 63);
    }
  }

  constexpr bool contains(char c) const {
    const auto b = static_cast<unsigned char>(c);
    return ((bits_[b >> 6] >> (b & 63)) & 1) != 0;
  }

 private:
  std::array<std::uint64_t, 4> bits_{};
};

// The first position >= pos of a byte in `set` (find_first_in) or not in it (find_first_not_in);
// npos when there is none, as std::string_view's find_first_of / find_first_not_of.
constexpr std::size_t find_first_in(std::string_view s, const ByteSet& set, std::size_t pos = 0) {
  for (std::size_t i = pos; i < s.size(); ++i) {
    if (set.contains(s[i])) return i;
  }
  return std::string_view::npos;
}

constexpr std::size_t find_first_not_in(std::string_view s, const ByteSet& set, std::size_t pos = 0) {
  for (std::size_t i = pos; i < s.size(); ++i) {
    if (!set.contains(s[i])) return i;
  }
  return std::string_view::npos;
}

}  // namespace vigil::extract::detail
