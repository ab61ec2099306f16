#pragma once

// Private to vigil_extract: the candidate pass that tells each finder where to look (extract.cc:
// the SSE2/scalar pass; scan_simd.cc: the AVX-512 pass) and the hook the tests use to compare
// the two. Not part of the library's API.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace vigil::extract::detail {

// Positions in a text, ascending: a vector of uint32 whose room is not initialised, so that
// the AVX-512 pass can make room for the most positions a stretch of blocks may give, write
// them without a branch per position and then set the size to what it wrote.
class Positions {
 public:
  const std::uint32_t* begin() const { return data_.get(); }
  const std::uint32_t* end() const { return data_.get() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::uint32_t operator[](std::size_t i) const { return data_[i]; }
  bool operator==(const Positions& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

  void clear() { size_ = 0; }
  void push_back(std::uint32_t p) {
    if (size_ == capacity_) [[unlikely]] {
      grow(size_ + 1);
    }
    data_[size_++] = p;
  }

  // For the AVX-512 pass, which writes through a pointer: `at` (data() + the number written
  // so far) with room for `count` more positions from there, moved if the list had to grow;
  // the positions before it are kept.
  std::uint32_t* room(std::uint32_t* at, std::size_t count) {
    const auto written = static_cast<std::size_t>(at - data_.get());
    if (capacity_ - written < count) [[unlikely]] {
      size_ = written;
      grow(written + count);
    }
    return data_.get() + written;
  }
  std::uint32_t* data() { return data_.get(); }
  // The list is the first `size` positions written (no more than the room made).
  void resize_written(std::size_t size) { size_ = size; }

 private:
  void grow(std::size_t least) {
    const std::size_t capacity = std::max<std::size_t>({least, 2 * capacity_, 64});
    std::unique_ptr<std::uint32_t[]> data(new std::uint32_t[capacity]);  // uninitialised
    std::copy(begin(), end(), data.get());
    data_ = std::move(data);
    capacity_ = capacity;
  }

  std::unique_ptr<std::uint32_t[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

// Where candidates can start, from one pass over a post (positions in the text, ascending).
struct Candidates {
  Positions url_marks;      // '.' and ':' (a token without either is no link)
  Positions ats;            // '@'
  Positions digit_starts;   // a digit after a non-word byte
  Positions phone_starts;   // '0', '8', '+' or 'O' before a digit, as find_phones starts
  bool obfuscated = false;  // some URL obfuscation occurs (deobfuscate changes the text)
};

// Whether a URL token ends at byte c (white space, control bytes, quotes, brackets, '|', '`',
// ','); the one definition for extract.cc's byte classes and the AVX-512 pass's tables.
constexpr bool url_delimiter_byte(unsigned char c) {
  return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' ||
         c == '{' || c == '}' || c == '|' || c == '`' || c == ',';
}

// Whether deobfuscate changes the text at in[i] (an obfuscation starts there); extract.cc.
bool obfuscation_at(std::string_view in, std::size_t i);

// Whether this CPU runs scan_avx512 (AVX-512 F/BW/VBMI, BMI1/2, POPCNT), checked once.
bool simd_scan_supported();

// The candidate pass 64 bytes at a time; exactly the output of the SSE2/scalar pass for every
// input. Call only when simd_scan_supported().
void scan_avx512(std::string_view text, Candidates& c);

// The candidate pass (clears `c` first), with the AVX-512 pass allowed or not (tests compare
// them; extraction allows it).
void scan(std::string_view text, Candidates& c, bool allow_simd);

}  // namespace vigil::extract::detail
