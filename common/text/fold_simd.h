#pragma once

// Private to vigil_text: the AVX-512 step of fold's character pass (fold_simd.cc) and the
// hook the tests use to compare it with the scalar loop. Not part of the library's API.

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/text/text.h"

namespace vigil::text::detail {

// What the vector step knows about a code point, one byte per code point so that a whole
// 64-byte block is looked up with vpermb/vpermi2b. Built from the scalar fold table (ICU), so
// both paths agree by construction; anything else (combining marks, folds to more than one
// byte, other scripts) is kSimdOther and sends the block to the scalar loop.
inline constexpr std::uint8_t kSimdOther = 0;     // not handled by the vector step
inline constexpr std::uint8_t kSimdDrop = 0x80;   // dropped (emoji, zero-width, format)
inline constexpr std::uint8_t kSimdSpace = 0x81;  // white space
// 0x01..0x7f: folds to exactly that one ASCII byte.

struct SimdFoldTables {
  // U+0080..U+01FF, lead bytes C2..C7 (the 2-byte Vietnamese letters), by lead then trail.
  alignas(64) std::uint8_t latin[6][64];
  // U+1E00..U+1EFF, E1 B8..BB xx (Latin Extended Additional: the other Vietnamese letters).
  alignas(64) std::uint8_t latin_additional[4][64];
  // U+2000..U+207F, E2 80..81 xx (general punctuation: spaces, zero-width characters).
  alignas(64) std::uint8_t punctuation[2][64];
  // U+FE00..U+FE3F, EF B8 xx (the emoji variation selector U+FE0F).
  alignas(64) std::uint8_t variation[64];
  // U+2000..U+2FFF, E2 xx yy: bit (yy & 0x3f) of symbols_dropped[xx & 0x3f] is set when the
  // code point is dropped (pictographs such as ✅ ❤ ⚠ ⭐; used for E2 82..BF, the punctuation
  // table above covers E2 80..81).
  std::uint64_t symbols_dropped[64];
  // U+1F000..U+1FFFF, F0 9F xx yy: bit (yy & 0x3f) of emoji_dropped[xx & 0x3f] is set when
  // the code point is dropped (most emoji; skin tones and regional indicators are not).
  std::uint64_t emoji_dropped[64];
  // b * 0x01010101 for every byte b: the vector step's byte constants, read from memory (see
  // bytes() in fold_simd.cc).
  std::uint32_t byte_x4[256];
};

// The character pass's state between characters, as fold_characters() keeps it. Ends are
// kept as in Folded: `ends` gets an entry for each written byte whose end is not the next
// byte's origin, and `last_end` is the end of the last byte written, whose next byte is not
// known yet.
struct CharacterCursor {
  char* text;
  std::uint32_t* origin;
  std::vector<Folded::End>* ends;
  std::size_t n;           // folded bytes written
  std::size_t last_begin;  // first folded byte of the last letter (a combining mark extends it)
  bool pending_space;      // a white space run waits for the next letter
  std::uint32_t space_origin;
  std::uint32_t space_end;
  std::uint32_t last_end;
};

// Whether this CPU runs fold_blocks_avx512 (AVX-512 F/BW/VBMI/VBMI2, BMI1/2, POPCNT), checked
// once.
bool simd_fold_supported();

// The tables, built once from the scalar fold table; null when !simd_fold_supported().
const SimdFoldTables* simd_fold_tables();

// Folds the characters from s[i] on, 64 bytes at a time, while every character of a block is
// one the tables handle; stops at the first block that has another one (or ill-formed UTF-8)
// and returns where it stopped (`length` when done). The output and `cursor` are exactly what
// the scalar loop gives for the same characters. The output buffers need 64 entries of slack
// past the largest size the scalar loop could write. Call only when simd_fold_supported().
std::int32_t fold_blocks_avx512(const std::uint8_t* s, std::int32_t i, std::int32_t length,
                                const SimdFoldTables& tables, CharacterCursor& cursor);

// The word pass's vector step (word_simd.cc): finds, 64 folded bytes at a time, the words
// that a word rule may change, so that the scalar word pass only visits those and copies the
// rest in bulk. Same CPU features as the character step (simd_fold_supported()).
//
// at[k] gives, for an ASCII byte at offset k = 0..3 of a word, the bits below; high[k] (64
// equal bytes) the same for every byte 0x80..0xFF, a word byte of no spelling.
inline constexpr std::uint8_t kWordByte = 0x01;       // part of a word (every table)
inline constexpr std::uint8_t kWordLeet = 0x02;       // at[0]: 0 1 3 4 @ $
inline constexpr std::uint8_t kWordJoin = 0x02;       // at[1]: a separator of spelled-out letters
inline constexpr std::uint8_t kWordLetter = 0x04;     // at[0]: a-z
inline constexpr std::uint8_t kWordSpelling1 = 0x10;  // bit 0x10 << (m - 1): the byte can be byte k of a
                                                      // chat spelling of m bytes (any byte when k >= m)
struct SimdWordTables {
  alignas(64) std::uint8_t at[4][128];
  alignas(64) std::uint8_t high[4][64];
  // Two-byte spellings, finer than at[]: the first byte's group (one bit) and, for the second
  // byte, the groups of the first bytes it follows in some spelling (first bytes with the
  // same followers share a group; 0 for other bytes).
  alignas(64) std::uint8_t pair_first[128];
  alignas(64) std::uint8_t pair_second[128];
};

// The tables, built once from the word pass's byte classes and chat spellings; null when
// !simd_fold_supported().
const SimdWordTables* simd_word_tables();

// Bit r of flags[b] set when folded byte text[64 b + r] (< n) may start or belong to a word that a word
// rule changes: a leet character in a word with a letter, the third of three equal word bytes,
// a one-byte word that starts spelled-out letters ("d.a"), a word of 1-4 bytes that passes the
// chat-spelling filter.
// Every word the scalar word pass would change has a bit (false positives are allowed). Writes
// (n + 63) / 64 words to `flags`. Call only when simd_fold_supported().
void word_flags_avx512(const char* text, std::size_t n, const SimdWordTables& tables, std::uint64_t* flags);

// True when `text` is certainly NFC without asking ICU (every character is NFC-inert; false
// means "ask ICU"), with the AVX-512 block test allowed or not (tests compare it with the
// SSE2 one; nfc_in_place allows it). Ill-formed UTF-8 may pass: callers validate first.
bool obviously_nfc(std::string_view text, bool allow_avx512);

// fold() with the vector steps allowed or not (tests compare them; fold() allows both).
void fold(std::string_view utf8, Folded& out, bool simd_characters, bool simd_words);
inline void fold(std::string_view utf8, Folded& out, bool allow_simd) {
  fold(utf8, out, allow_simd, allow_simd);
}

}  // namespace vigil::text::detail
