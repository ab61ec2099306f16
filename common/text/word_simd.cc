// The vector step of fold's word pass. Most words of a post need no word rule: they have no
// leet character, no run of three equal bytes, are not spelled out letter by letter and are
// not chat spellings. The scalar word pass used to find each word's end and gather its
// statistics byte by byte, then look every short word up in the spelling table. Here a 64-byte
// block of folded text is classified at once and only the words with a bit go through the
// scalar code; the text between them is copied in bulk.
//
// Compiled for the default target: only the function below carries the AVX-512 target
// attribute, and fold() calls it only when the CPU has the features (checked at run time).

#include "common/text/fold_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vigil::text::detail {

#if defined(__x86_64__)

#define VIGIL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")))

namespace {

// The 64 bytes text[from, from + 64), with 0 (not a word byte) outside [0, n); kInside when
// they are all inside.
template <bool kInside>
VIGIL_AVX512 inline __m512i load(const char* text, std::ptrdiff_t n, std::ptrdiff_t from) {
  if (kInside || (from >= 0 && from + 64 <= n)) return _mm512_loadu_si512(reinterpret_cast<const void*>(text + from));
  const std::ptrdiff_t below = n - from;  // lanes below this are before n
  if (below <= 0) return _mm512_setzero_si512();
  std::uint64_t lanes = below >= 64 ? ~std::uint64_t{0} : _bzhi_u64(~std::uint64_t{0}, static_cast<unsigned>(below));
  if (from >= 0) return _mm512_maskz_loadu_epi8(lanes, text + from);
  // Before the text (the first block): the lanes from -from on get text[0], text[1], ...
  lanes &= ~std::uint64_t{0} << -from;
  return _mm512_maskz_expandloadu_epi8(lanes, text);
}

// The class bits of each byte from table k.
VIGIL_AVX512 inline __m512i classes(__m512i v, const SimdWordTables& tables, int k) {
  const __m512i lo = _mm512_load_si512(reinterpret_cast<const void*>(tables.at[k]));
  const __m512i hi = _mm512_load_si512(reinterpret_cast<const void*>(tables.at[k] + 64));
  const __m512i high = _mm512_load_si512(reinterpret_cast<const void*>(tables.high[k]));
  return _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), _mm512_permutex2var_epi8(lo, v, hi), high);
}

VIGIL_AVX512 inline __mmask64 word_bytes(__m512i c) {
  return _mm512_test_epi8_mask(c, _mm512_set1_epi8(kWordByte));
}

// A 128-entry table's byte for each ASCII byte, 0 for the others.
VIGIL_AVX512 inline __m512i lookup(__m512i v, const std::uint8_t* table) {
  const __m512i lo = _mm512_load_si512(reinterpret_cast<const void*>(table));
  const __m512i hi = _mm512_load_si512(reinterpret_cast<const void*>(table + 64));
  return _mm512_maskz_permutex2var_epi8(~_mm512_movepi8_mask(v), lo, v, hi);
}

// The marks of `marks` (within `word`) that come first in their word, within the block.
inline std::uint64_t first_in_word(std::uint64_t word, std::uint64_t start, std::uint64_t marks) {
  // From each word start a carry runs over unmarked word bytes and stops on the first mark;
  // in a word without marks it stops past the word.
  const std::uint64_t unmarked = word & ~marks;
  return (unmarked + start) & ~unmarked & word;
}

// The bytes of each word from its first mark on.
inline std::uint64_t from_first(std::uint64_t word, std::uint64_t first) {
  return word & ~(word + first);
}

// The marks of text[at, at + 64); kInside when text[at - 2, at + 68) is all inside the text.
template <bool kInside>
VIGIL_AVX512 inline std::uint64_t block_flags(const char* text, std::ptrdiff_t size, std::ptrdiff_t at,
                                              const SimdWordTables& tables) {
  const __m512i v = load<kInside>(text, size, at);
  const __m512i before1 = load<kInside>(text, size, at - 1);
  const __m512i before2 = load<kInside>(text, size, at - 2);
  const __m512i after1 = load<kInside>(text, size, at + 1);
  const __m512i after2 = load<kInside>(text, size, at + 2);
  const __m512i after3 = load<kInside>(text, size, at + 3);
  const __m512i after4 = load<kInside>(text, size, at + 4);
  const __m512i c0 = classes(v, tables, 0);
  const __m512i c1 = classes(after1, tables, 1);
  const __m512i c2 = classes(after2, tables, 2);
  const __m512i c3 = classes(after3, tables, 3);
  const __mmask64 word = word_bytes(c0);
  const __mmask64 word_before = word_bytes(classes(before1, tables, 0));
  const __mmask64 word_after1 = word_bytes(c1);
  const __mmask64 word_after2 = word_bytes(c2);
  const __mmask64 word_after3 = word_bytes(c3);
  const __mmask64 word_after4 = word_bytes(classes(after4, tables, 0));
  const __mmask64 start = word & ~word_before;
  const __mmask64 single = start & ~word_after1;
  // Leetspeak needs a letter in the word ("2024" and "0912" are never changed), and the word
  // to start with a letter or to have two letters: "45k", "4g", "8h", "000d" (amounts, mostly)
  // have neither. Marked from the later of the first leet character and the letters it needs
  // to the word's end (from_first(first_in_word(...)) is each word from its first mark on).
  // Words cut by the block's ends have all their leet characters marked.
  const std::uint64_t leet = _mm512_test_epi8_mask(c0, _mm512_set1_epi8(kWordLeet));
  const std::uint64_t letters = _mm512_test_epi8_mask(c0, _mm512_set1_epi8(kWordLetter));
  const std::uint64_t block_start = word & ~(word << 1);  // word starts, and byte 0
  const std::uint64_t first_letter = first_in_word(word, block_start, letters);
  const std::uint64_t after_leet = from_first(word, first_in_word(word, block_start, leet));
  const std::uint64_t after_letter = from_first(word, first_letter);
  const std::uint64_t after_second_letter = from_first(word, first_in_word(word, block_start, letters & ~first_letter));
  const std::uint64_t starts_with_letter = from_first(word, block_start & letters);
  std::uint64_t flags = after_leet & after_letter & (starts_with_letter | after_second_letter);
  const std::uint64_t not_word = ~word;
  std::uint64_t cut = word & ~(word + 1);  // the word at byte 0
  if (not_word == 0) {
    cut = word;
  } else if ((word >> 63) != 0) {
    cut |= ~std::uint64_t{0} << (64 - __builtin_clzll(not_word));  // the word at byte 63
  }
  flags |= leet & cut;
  // Letter runs: the third of three equal word bytes.
  flags |= word & _mm512_cmpeq_epi8_mask(v, before1) & _mm512_cmpeq_epi8_mask(v, before2);
  // Spelled-out letters: a one-byte word, a separator, another one-byte ASCII word, and then,
  // unless the separator is a dot (two dotted letters may join next to another dotted group),
  // the same separator and a third word ("2-0" is a score).
  const std::uint64_t third = _mm512_cmpeq_epi8_mask(after3, after1) & word_after4;
  flags |= single & _mm512_test_epi8_mask(c1, _mm512_set1_epi8(kWordJoin)) & word_after2 &
           ~_mm512_movepi8_mask(after2) & ~word_after3 &
           (_mm512_cmpeq_epi8_mask(after1, _mm512_set1_epi8('.')) | third);
  // Chat spellings of 1..4 bytes: each byte can be the same byte of a spelling that long, and
  // the word ends there.
  const __m512i spelling = _mm512_and_si512(_mm512_and_si512(c0, c1), _mm512_and_si512(c2, c3));
  const std::uint64_t spelling1 =
      _mm512_test_epi8_mask(spelling, _mm512_set1_epi8(static_cast<char>(kWordSpelling1))) & ~word_after1;
  const std::uint64_t spelling2 =
      _mm512_test_epi8_mask(lookup(v, tables.pair_first), lookup(after1, tables.pair_second)) & ~word_after2;
  const std::uint64_t spelling3 =
      _mm512_test_epi8_mask(spelling, _mm512_set1_epi8(static_cast<char>(kWordSpelling1 << 2))) & ~word_after3;
  const std::uint64_t spelling4 =
      _mm512_test_epi8_mask(spelling, _mm512_set1_epi8(static_cast<char>(kWordSpelling1 << 3))) & ~word_after4;
  flags |= start & (spelling1 | spelling2 | spelling3 | spelling4);
  return flags;
}

}  // namespace

VIGIL_AVX512 void word_flags_avx512(const char* text, std::size_t n, const SimdWordTables& tables,
                                    std::uint64_t* flags) {
  const auto size = static_cast<std::ptrdiff_t>(n);
  std::ptrdiff_t at = 0;
  for (; at < size && (at < 2 || at + 68 > size); at += 64) *flags++ = block_flags<false>(text, size, at, tables);
  for (; at + 68 <= size; at += 64) *flags++ = block_flags<true>(text, size, at, tables);
  for (; at < size; at += 64) *flags++ = block_flags<false>(text, size, at, tables);
}

#else

void word_flags_avx512(const char*, std::size_t n, const SimdWordTables&, std::uint64_t* flags) {
  for (std::size_t at = 0; at < n; at += 64) *flags++ = ~std::uint64_t{0};
}

#endif

}  // namespace vigil::text::detail
