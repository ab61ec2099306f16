#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::text {

// Unicode NFC of UTF-8 text (for display and evidence quotes). Ill-formed UTF-8 is not
// repaired reliably (ICU passes it through when the rest needs no change, replaces it with
// U+FFFD when it converts), so callers validate first (the adapters reject it).
std::string nfc(std::string_view utf8);
// The same in place; allocation-free when the text is ASCII or already NFC (the usual case).
void nfc_in_place(std::string& text);

// Text folded for matching: lower case, Vietnamese diacritics removed (đ -> d), whitespace
// runs collapsed to one space, zero-width characters and emoji dropped. `origin[i]` is the
// byte offset in the input of the character that produced folded byte i; origin.back() is
// the input size, so a folded span [b, e) maps to input bytes [origin[b], origin_end(e - 1)).
// Lifecycle: a value, filled by fold(); reuse one across calls to keep its buffers.
struct Folded {
  // Where a folded byte's character ends in the input, kept only for the bytes where that is
  // not where the next byte's character begins: a character folded to several bytes, one
  // followed by a dropped emoji or a removed separator, a chat spelling written out. About 7
  // per post, against one per byte before: building a second per-byte map was a tenth of fold.
  struct End {
    std::uint32_t byte;  // folded byte
    std::uint32_t end;   // input offset just past its character
    bool operator==(const End&) const = default;
  };

  std::string text;
  std::vector<std::uint32_t> origin;
  std::vector<End> ends;  // ascending by byte; every entry's end differs from origin[byte + 1]

  // The input offset just past the character that produced folded byte k (k < text.size()).
  std::uint32_t origin_end(std::size_t k) const;

  // The input bytes that produced folded bytes [begin, end).
  std::pair<std::uint32_t, std::uint32_t> source_span(std::size_t begin, std::size_t end) const {
    return {origin[begin], origin_end(end - 1)};
  }
};

void fold(std::string_view utf8, Folded& out);

// The one rule for word boundaries in Vigil (phrase matches, context words, entity edges):
// ASCII letters and digits, and every byte of a multi-byte UTF-8 character, so letters of any
// script (and Vietnamese letters in unfolded text) never count as a boundary.
inline bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
}

// Number of code points in a valid UTF-8 prefix; evidence offsets are given in code points.
std::size_t code_points(std::string_view utf8);

}  // namespace vigil::text
