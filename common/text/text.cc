#include "common/text/text.h"

#include "common/text/fold_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/unorm2.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace vigil::text {
namespace {

const icu::Normalizer2* nfd_instance() {
  static const icu::Normalizer2* kNfd = [] {
    UErrorCode status = U_ZERO_ERROR;
    return icu::Normalizer2::getNFDInstance(status);
  }();
  return kNfd;
}

bool dropped(UChar32 c) {
  if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF || c == 0xFE0F) return true;
  return u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) || u_charType(c) == U_FORMAT_CHAR;
}

// Base letter of c without diacritics, lower-cased. đ has no decomposition in Unicode.
UChar32 base_letter(UChar32 c) {
  c = u_tolower(c);
  if (c == 0x0111) return 'd';
  if (c < 0x80) return c;
  icu::UnicodeString decomposition;
  const icu::Normalizer2* nfd = nfd_instance();
  if (nfd != nullptr && nfd->getDecomposition(c, decomposition) && decomposition.length() > 0) {
    return decomposition.char32At(0);
  }
  return c;
}

// What folding does with one code point.
constexpr UChar32 kDrop = -1;   // emoji, zero-width and format characters
constexpr UChar32 kSpace = -2;  // any white space
constexpr UChar32 kMark = -3;   // combining mark: belongs to the letter before

UChar32 classify_slow(UChar32 c) {
  if (dropped(c)) return kDrop;
  if (u_isUWhiteSpace(c)) return kSpace;
  if (u_charType(c) == U_NON_SPACING_MARK) return kMark;
  return base_letter(c);
}

// ICU lookups cost far more than the rest of folding, so the scripts Vietnamese posts are
// written in (Latin, Latin Extended Additional, general punctuation: all below U+2100) come
// from a table built once with ICU itself; everything else asks ICU each time.
class FoldTable {
 public:
  FoldTable() {
    for (UChar32 c = 0; c < kLow; ++c) low_[c] = classify_slow(c);
  }
  UChar32 classify(UChar32 c) const { return c < kLow ? low_[c] : classify_slow(c); }

 private:
  static constexpr UChar32 kLow = 0x2100;
  UChar32 low_[kLow];
};

const FoldTable& fold_table() {
  static const FoldTable* kTable = new FoldTable();
  return *kTable;
}

// The vector step's tables (fold_simd.h), from the table above: one byte per code point.
std::uint8_t simd_value(UChar32 c) {
  const UChar32 folded = fold_table().classify(c);
  if (folded == kDrop) return detail::kSimdDrop;
  if (folded == kSpace) return detail::kSimdSpace;
  if (folded > 0 && folded < 0x80) return static_cast<std::uint8_t>(folded);
  return detail::kSimdOther;  // combining marks, folds to anything but one ASCII byte
}

}  // namespace

const detail::SimdFoldTables* detail::simd_fold_tables() {
  static const detail::SimdFoldTables* kTables = []() -> const detail::SimdFoldTables* {
    if (!detail::simd_fold_supported()) return nullptr;
    auto* t = new detail::SimdFoldTables();
    for (UChar32 k = 0; k < 64; ++k) {
      for (UChar32 lead = 0; lead < 6; ++lead) t->latin[lead][k] = simd_value(0x80 + 64 * lead + k);
      for (UChar32 row = 0; row < 4; ++row) t->latin_additional[row][k] = simd_value(0x1e00 + 64 * row + k);
      for (UChar32 row = 0; row < 2; ++row) t->punctuation[row][k] = simd_value(0x2000 + 64 * row + k);
      t->variation[k] = simd_value(0xfe00 + k);
      t->symbols_dropped[k] = 0;
      t->emoji_dropped[k] = 0;
      for (UChar32 m = 0; m < 64; ++m) {
        if (fold_table().classify(0x2000 + 64 * k + m) == kDrop) t->symbols_dropped[k] |= std::uint64_t{1} << m;
        if (fold_table().classify(0x1f000 + 64 * k + m) == kDrop) t->emoji_dropped[k] |= std::uint64_t{1} << m;
      }
    }
    for (std::uint32_t b = 0; b < 256; ++b) t->byte_x4[b] = b * 0x01010101u;
    return t;
  }();
  return kTables;
}

namespace {

// Code points that can never change under NFC or make a neighbour change: NFC quick check
// "yes" and combining class 0. Text made only of these is NFC, so ICU is not asked. A bitmap
// over the BMP and the first supplementary plane (emoji), built once from ICU; anything beyond
// asks ICU directly.
class NfcInert {
 public:
  NfcInert() {
    for (UChar32 c = 0; c < kSize; ++c) {
      if (slow(c)) bits_[static_cast<std::size_t>(c) >> 6] |= std::uint64_t{1} << (c & 63);
    }
  }
  bool operator()(UChar32 c) const {
    if (c < kSize) return (bits_[static_cast<std::size_t>(c) >> 6] >> (c & 63)) & 1;
    return slow(c);
  }

 private:
  static bool slow(UChar32 c) {
    return u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES && u_getCombiningClass(c) == 0;
  }
  static constexpr UChar32 kSize = 0x20000;
  std::uint64_t bits_[kSize / 64] = {};
};

// Decodes the code point at s[i] and moves i past it (negative for ill-formed bytes, as
// U8_NEXT). Well-formed 2-byte characters (most Vietnamese letters) and U+1000..U+1FFF (Latin
// Extended Additional: the other Vietnamese letters) are decoded inline; the rest as ICU does.
inline UChar32 next_code_point(const std::uint8_t* s, std::int32_t& i, std::int32_t length) {
  const std::uint8_t b = s[i];
  if (b < 0xe0 && b >= 0xc2 && i + 1 < length && (s[i + 1] & 0xc0) == 0x80) {
    const UChar32 c = ((b & 0x1f) << 6) | (s[i + 1] & 0x3f);
    i += 2;
    return c;
  }
  if (b == 0xe1 && i + 2 < length && (s[i + 1] & 0xc0) == 0x80 && (s[i + 2] & 0xc0) == 0x80) {
    const UChar32 c = 0x1000 | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
    i += 3;
    return c;
  }
  UChar32 c = 0;
  U8_NEXT(s, i, length, c);
  return c;
}

const NfcInert& nfc_inert() {
  static const NfcInert* kInert = new NfcInert();
  return *kInert;
}

// Whether three byte patterns that cover nearly all non-ASCII text in posts are NFC-inert
// throughout, as they are in every ICU so far: lead bytes below 0xCC (U+0080..U+02FF, the
// 2-byte Vietnamese letters), E1 B8..BB (U+1E00..U+1EFF, the other Vietnamese letters) and
// F0 9F (U+1F000..U+1FFFF, emoji). Checked against ICU once, so that a future Unicode cannot
// make the block test below wrong, only slower.
bool block_test_valid() {
  static const bool kValid = [] {
    const NfcInert& inert = nfc_inert();
    auto all = [&](UChar32 from, UChar32 to) {
      for (UChar32 c = from; c <= to; ++c) {
        if (!inert(c)) return false;
      }
      return true;
    };
    return all(0x80, 0x2ff) && all(0x1e00, 0x1eff) && all(0x1f000, 0x1ffff);
  }();
  return kValid;
}

// Checks the characters of s[from, to) that start a character one by one against the bitmap.
// `from` may be inside a character (its continuation bytes are skipped).
bool inert_characters(const std::uint8_t* s, std::int32_t from, std::int32_t to, std::int32_t length) {
  const NfcInert& inert = nfc_inert();
  std::int32_t i = from;
  while (i < to && (s[i] & 0xc0) == 0x80) ++i;
  while (i < to) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    const UChar32 c = next_code_point(s, i, length);
    if (c < 0 || !inert(c)) return false;
  }
  return true;
}

// Whether the characters starting at the bytes of s[base...] that `mask` has bits for are all
// NFC-inert (the block tests below leave the lead bytes they cannot decide in a mask).
inline bool inert_lanes(const std::uint8_t* s, std::int32_t base, std::uint64_t mask, std::int32_t length) {
  for (; mask != 0; mask &= mask - 1) {
    std::int32_t k = base + static_cast<std::int32_t>(__builtin_ctzll(mask));
    const UChar32 c = next_code_point(s, k, length);
    if (c < 0 || !nfc_inert()(c)) return false;
  }
  return true;
}

#if defined(__x86_64__)
bool avx512vbmi_supported() {
  static const bool kSupported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  return kSupported;
}

// What obviously_nfc's AVX-512 form looks up for a byte 0x80..0xFF (index: its low 7 bits):
// for the byte itself, whether it is a lead byte of none of block_test_valid()'s patterns
// (kNfcUncommon: 0xCC and up, but E1 and F0) or which second byte it needs (kNfcE1, kNfcF0);
// for the byte after it, which of those it is (B8..BB, 9F).
enum : std::uint8_t { kNfcUncommon = 1, kNfcE1 = 2, kNfcF0 = 4 };
struct NfcBlockTables {
  alignas(64) std::uint8_t lead[128];
  alignas(64) std::uint8_t next[128];
};
constexpr NfcBlockTables kNfcBlockTables = [] {
  NfcBlockTables t{};
  for (int b = 0x80; b < 0x100; ++b) {
    std::uint8_t lead = b >= 0xcc ? kNfcUncommon : 0;
    if (b == 0xe1) lead = kNfcE1;
    if (b == 0xf0) lead = kNfcF0;
    t.lead[b - 0x80] = lead;
    std::uint8_t next = 0;
    if (b >= 0xb8 && b <= 0xbb) next = kNfcE1;
    if (b == 0x9f) next = kNfcF0;
    t.next[b - 0x80] = next;
  }
  return t;
}();

// obviously_nfc's block test over the whole text, 64 bytes at a time (the SSE2 loop below
// was 6 % of stage A's front half). Each byte >= 0x80 and the byte after it are looked up in
// two tables (vpermi2b); a lane whose lead bits the next byte's bits do not cancel is a
// character to check one by one.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) bool obviously_nfc_avx512(const std::uint8_t* s,
                                                                                 std::int32_t length) {
  const __m512i lead_lo = _mm512_load_si512(kNfcBlockTables.lead),
                lead_hi = _mm512_load_si512(kNfcBlockTables.lead + 64);
  const __m512i next_lo = _mm512_load_si512(kNfcBlockTables.next),
                next_hi = _mm512_load_si512(kNfcBlockTables.next + 64);
  for (std::int32_t i = 0; i < length; i += 64) {
    // Each block also reads the byte after it (the second byte of a character starting at 63).
    // The last 1..64 bytes are read with masked loads: lanes past the end read as 0 (no lead
    // byte, and cancelling nothing) and a character cut off by the end is not inert
    // (next_code_point fails on it).
    const auto rem = static_cast<unsigned>(length - i);
    __m512i v, next;
    if (rem >= 65) {
      v = _mm512_loadu_si512(s + i);
      if (_mm512_movepi8_mask(v) == 0) continue;
      next = _mm512_loadu_si512(s + i + 1);
    } else {
      const __mmask64 valid = (std::uint64_t{1} << (rem - 1) << 1) - 1;  // rem = 64: all lanes
      v = _mm512_maskz_loadu_epi8(valid, s + i);
      next = _mm512_maskz_loadu_epi8(valid >> 1, s + i + 1);
    }
    const __m512i lead = _mm512_maskz_permutex2var_epi8(_mm512_movepi8_mask(v), lead_lo, v, lead_hi);
    const __m512i follows = _mm512_maskz_permutex2var_epi8(_mm512_movepi8_mask(next), next_lo, next, next_hi);
    const __m512i unmatched = _mm512_ternarylogic_epi32(lead, follows, lead, 0x30);  // lead & ~follows
    const __mmask64 check = _mm512_test_epi8_mask(unmatched, unmatched);
    if (!inert_lanes(s, i, check, length)) return false;
  }
  return true;
}
#endif

}  // namespace

// 64 (AVX-512) or 16 (SSE2) bytes at a time: only lead bytes outside the patterns of
// block_test_valid() are looked up one by one. Ill-formed UTF-8 that passes is left as it is
// by nfc_in_place, as ICU also does when nothing else changes.
bool detail::obviously_nfc(std::string_view text, bool allow_avx512) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto length = static_cast<std::int32_t>(text.size());
  std::int32_t i = 0;
#if defined(__x86_64__)
  if (allow_avx512 && block_test_valid() && avx512vbmi_supported()) return obviously_nfc_avx512(s, length);
#else
  (void)allow_avx512;
#endif
#if defined(__SSE2__)
  if (block_test_valid()) {
    const __m128i lead_min = _mm_set1_epi8(static_cast<char>(0xcc));
    const __m128i e1 = _mm_set1_epi8(static_cast<char>(0xe1));
    const __m128i f0 = _mm_set1_epi8(static_cast<char>(0xf0));
    const __m128i x9f = _mm_set1_epi8(static_cast<char>(0x9f));
    const __m128i xfc = _mm_set1_epi8(static_cast<char>(0xfc));
    const __m128i xb8 = _mm_set1_epi8(static_cast<char>(0xb8));
    // Each block also reads the byte after it (the second byte of a character starting at 15).
    for (; i + 17 <= length; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      // Bytes >= 0xCC: lead bytes of characters above U+02FF (continuation bytes are below).
      unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, lead_min), v)));
      if (mask == 0) continue;
      const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 1));
      const __m128i vietnamese = _mm_and_si128(_mm_cmpeq_epi8(v, e1), _mm_cmpeq_epi8(_mm_and_si128(next, xfc), xb8));
      const __m128i emoji = _mm_and_si128(_mm_cmpeq_epi8(v, f0), _mm_cmpeq_epi8(next, x9f));
      mask &= ~static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(vietnamese, emoji)));
      if (!inert_lanes(s, i, mask, length)) return false;
    }
  }
#endif
  return inert_characters(s, i, length, length);
}

std::string nfc(std::string_view utf8) {
  std::string out(utf8);
  nfc_in_place(out);
  return out;
}

void nfc_in_place(std::string& text) {
  // Almost every post is already NFC (or plain ASCII): check before converting to UTF-16.
  if (detail::obviously_nfc(text, true)) return;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (normalizer->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return;
  status = U_ZERO_ERROR;
  const auto input = icu::UnicodeString::fromUTF8(piece);
  const icu::UnicodeString normalized = normalizer->normalize(input, status);
  text.clear();
  (U_SUCCESS(status) ? normalized : input).toUTF8String(text);
}

namespace {

// Folding runs in two tight passes over reused buffers. The first decodes the input into
// per-character folded text (case, diacritics, white space, emoji, zero-width characters),
// each byte with its input span; the second walks that text word by word, applies the word
// rules (spelled-out joins, leetspeak, letter runs, chat spellings, the "k" rule) and copies
// everything else to the output in bulk: most of a post passes through unchanged.

// Character classes of folded bytes for the word rules.
enum : std::uint8_t {
  kToken = 1,   // part of a word: a-z, 0-9, '@', '$' and every byte of a multi-byte character
  kLetter = 2,  // a-z
  kDigit = 4,   // 0-9
  kLeet = 8,    // stands for a letter in leetspeak: 0 1 3 4 @ $
};

constexpr auto kByteClass = [] {
  std::array<std::uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    if (b >= 'a' && b <= 'z') c[b] = kToken | kLetter;
    if (b >= '0' && b <= '9') c[b] = kToken | kDigit;
    if (b == '@' || b == '$') c[b] = kToken;
    if (b == '0' || b == '1' || b == '3' || b == '4' || b == '@' || b == '$') c[b] |= kLeet;
    if (b >= 0x80) c[b] = kToken;
  }
  return c;
}();

std::uint8_t byte_class(char c) {
  return kByteClass[static_cast<unsigned char>(c)];
}
bool token_char(char c) {
  return (byte_class(c) & kToken) != 0;
}
bool ascii_letter(char c) {
  return c >= 'a' && c <= 'z';
}
bool ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// The first entry of `ends` (ascending by byte) at or after folded byte k.
std::vector<Folded::End>::const_iterator first_end_from(const std::vector<Folded::End>& ends, std::size_t k) {
  return std::lower_bound(ends.begin(), ends.end(), k,
                          [](const Folded::End& e, std::size_t byte) { return e.byte < byte; });
}

// Where folded byte k's character ends, kept as in Folded: the entry for k, else where byte
// k + 1 begins.
std::uint32_t end_of(const std::vector<Folded::End>& ends, const std::uint32_t* origin, std::size_t k) {
  const auto e = first_end_from(ends, k);
  return e != ends.end() && e->byte == k ? e->end : origin[k + 1];
}

// Folded text under construction: the bytes and, for each, the input span of its character,
// kept as in Folded: origin per byte, ends where they differ from the next byte's origin.
// origin[size] is where the last byte's character ends. Buffers only grow, so steady-state
// folding allocates nothing.
struct Characters {
  std::string text;
  std::vector<std::uint32_t> origin;
  std::vector<Folded::End> ends;
  std::size_t size = 0;

  void reserve(std::size_t n) {
    if (text.size() >= n) return;
    text.resize(n);
    origin.resize(n);
  }
};

// A word the word rules rewrite, gathered with the input span of each byte.
struct WordBytes {
  std::string text;
  std::vector<std::uint32_t> origin;
  std::vector<std::uint32_t> end;

  void clear() {
    text.clear();
    origin.clear();
    end.clear();
  }
};

// Per character: case, diacritics, whitespace, emoji and zero-width characters. A combining
// mark belongs to the letter before it: it is dropped, but that letter's source span covers
// it so quotes keep the whole grapheme. White space runs become one space, none at the ends.
//
// With `simd` (the CPU has AVX-512 VBMI2), blocks of 64 bytes made only of characters its
// tables handle are folded by the vector step (fold_simd.cc), which leaves the same output and
// state as this loop; the characters of any other block go through this loop one by one.
void fold_characters(std::string_view utf8, Characters& out, const detail::SimdFoldTables* simd) {
  // Each input byte gives at most two folded bytes (a 2-byte character may fold to 3 bytes);
  // the vector step writes 64 entries at a time past its output.
  out.reserve(2 * utf8.size() + 4 + 64);
  char* t = out.text.data();
  std::uint32_t* org = out.origin.data();
  std::vector<Folded::End>& ends = out.ends;
  ends.clear();
  const auto* s = reinterpret_cast<const std::uint8_t*>(utf8.data());
  const auto length = static_cast<std::int32_t>(utf8.size());
  const FoldTable& table = fold_table();
  std::size_t n = 0;
  bool pending_space = false;
  std::uint32_t space_origin = 0;
  std::uint32_t space_end = 0;
  std::size_t last_begin = 0;
  std::uint32_t last_end = 0;  // where the last byte written ends
  std::int32_t i = 0;
  // Before writing a byte whose character begins at `origin`: the byte before it ends
  // elsewhere (a dropped character or more of a space run came between, or both bytes come
  // from one character).
  auto junction = [&](std::uint32_t origin) {
    if (n != 0 && last_end != origin) ends.push_back({static_cast<std::uint32_t>(n - 1), last_end});
  };
  auto space = [&](std::uint32_t start, std::uint32_t stop) {
    if (!pending_space) space_origin = start;
    space_end = stop;
    pending_space = n != 0;
  };
  auto flush_space = [&] {
    if (!pending_space) return;
    junction(space_origin);
    t[n] = ' ';
    org[n] = space_origin;
    ++n;
    last_end = space_end;
    pending_space = false;
  };
  std::int32_t scalar_until = 0;  // characters starting before this go through the loop
  while (i < length) {
    if (simd != nullptr && i >= scalar_until) {
      detail::CharacterCursor cursor{t, org, &ends, n, last_begin, pending_space, space_origin, space_end, last_end};
      i = detail::fold_blocks_avx512(s, i, length, *simd, cursor);
      n = cursor.n;
      last_begin = cursor.last_begin;
      pending_space = cursor.pending_space;
      space_origin = cursor.space_origin;
      space_end = cursor.space_end;
      last_end = cursor.last_end;
      if (i >= length) break;
      scalar_until = i + 64;
    }
    std::uint8_t b = s[i];
    if (b < 0x80) {
      if (ascii_space(b)) {
        space(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 1));
        ++i;
        continue;
      }
      flush_space();
      // A run of ASCII up to the next space or non-ASCII byte: one byte per character, each
      // ending where the next begins.
      junction(static_cast<std::uint32_t>(i));
      do {
        t[n] = static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b);
        org[n] = static_cast<std::uint32_t>(i);
        ++n;
        ++i;
      } while (i < length && (b = s[i]) < 0x80 && !ascii_space(b));
      last_begin = n - 1;
      last_end = static_cast<std::uint32_t>(i);
      continue;
    }
    const auto start = static_cast<std::uint32_t>(i);
    const UChar32 c = next_code_point(s, i, length);
    const auto stop = static_cast<std::uint32_t>(i);
    if (c < 0) continue;
    const UChar32 folded = table.classify(c);
    if (folded == kDrop) continue;
    if (folded == kMark) {
      // The letter's bytes before its last already end elsewhere than where the next byte
      // begins (they share its origin), so each has an entry; the last byte's end is pending.
      if (last_begin < n) {
        for (auto e = ends.rbegin(); e != ends.rend() && e->byte >= last_begin; ++e) e->end = stop;
        last_end = stop;
      }
      continue;
    }
    if (folded == kSpace) {
      space(start, stop);
      continue;
    }
    flush_space();
    last_begin = n;
    if (folded < 0x80) {
      junction(start);
      t[n] = static_cast<char>(folded);
      org[n] = start;
      ++n;
      last_end = stop;
      continue;
    }
    std::int32_t len = 0;
    UBool error = false;
    U8_APPEND(reinterpret_cast<std::uint8_t*>(t + n), len, U8_MAX_LENGTH, folded, error);
    if (error) len = 0;
    for (std::int32_t k = 0; k < len; ++k) {
      junction(start);
      org[n] = start;
      ++n;
      last_end = stop;
    }
  }
  out.size = n;
  org[n] = last_end;
}

struct Spelling {
  std::string_view chat;
  std::string_view word;
};
// Common Vietnamese chat spellings, in folded form, as whole words.
constexpr Spelling kSpellings[] = {
    {"ko", "khong"},    {"hok", "khong"},         {"kh", "khong"},         {"hong", "khong"},    {"dc", "duoc"},
    {"j", "gi"},        {"sdt", "so dien thoai"}, {"stk", "so tai khoan"}, {"tk", "tai khoan"},  {"ck", "chuyen khoan"},
    {"zl", "zalo"},     {"fb", "facebook"},       {"tele", "telegram"},    {"mk", "minh"},       {"vs", "voi"},
    {"ng", "nguoi"},    {"ae", "anh em"},         {"nt", "nhan tin"},      {"dt", "dien thoai"}, {"sp", "san pham"},
    {"sl", "so luong"}, {"inb", "inbox"},         {"nhiu", "nhieu"},       {"dk", "dang ky"},    {"dky", "dang ky"},
    {"r", "roi"},       {"k", "khong"},
};

// "k" is "không" in chat ("k cần thế chấp", "được k?") but "nghìn" after a number ("150 k",
// "35 k/hộp"), a letter in names and codes ("vitamin k", "k-pop", "lớp 12k"): only a k that
// stands alone between spaces or sentence punctuation and does not follow a number is không.
// `before` and `after` are the bytes around it, -1 at the ends of the text.
bool k_means_khong(int before, int after, bool after_number) {
  auto separator = [](int c) {
    return c == ' ' || c == ',' || c == '.' || c == '!' || c == '?' || c == ';' || c == ':';
  };
  if (after_number) return false;
  if (before >= 0 && !separator(before) && before != '(') return false;
  return after < 0 || separator(after) || after == ')';
}

// Chat spellings are at most 4 bytes: packed into an integer (first byte lowest; word bytes
// are never 0, so words of different lengths differ), they are found with one multiply in a
// table where no two spellings share a slot, since this runs for every short word.
std::uint32_t pack(const char* w, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t k = n; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(w[k]);
  return v;
}

class SpellingTable {
 public:
  SpellingTable() {
    // The first multiplier that separates all spellings (found in a few tries).
    for (multiplier_ = 0x9E3779B1u;; multiplier_ += 2) {
      std::fill(std::begin(key_), std::end(key_), 0u);
      bool collision = false;
      for (const auto& sp : kSpellings) {
        const std::uint32_t key = pack(sp.chat.data(), sp.chat.size());
        std::uint32_t& slot = key_[slot_of(key)];
        if (slot != 0) collision = true;
        slot = key;
        word_[slot_of(key)] = sp.word;
      }
      if (!collision) break;
    }
  }
  std::string_view find(std::uint32_t key) const {
    const std::size_t slot = slot_of(key);
    return key_[slot] == key ? word_[slot] : std::string_view();
  }
  std::string_view find(const char* w, std::size_t n) const {
    if (n == 0 || n > 4) return {};
    return find(pack(w, n));
  }

 private:
  static constexpr std::size_t kSlots = 256;
  std::size_t slot_of(std::uint32_t key) const { return (key * multiplier_) >> 24; }
  std::uint32_t multiplier_;
  std::uint32_t key_[kSlots] = {};
  std::string_view word_[kSlots];
};

const SpellingTable kSpellingTable;

char leet_letter(char c) {
  switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '@': return 'a';
    case '$': return 's';
    default: return c;
  }
}

// A number followed by a unit, and maybe more digits: "3tr", "1tr5", "12usdt", "20gb".
bool amount_with_unit(std::string_view w) {
  static constexpr std::string_view kUnits[] = {"tr", "trieu", "ty", "k",  "usdt", "usd", "vnd", "d", "m",  "gb",
                                                "mb", "tb",    "kg", "km", "cm",   "mm",  "h",   "p", "ml", "l"};
  std::size_t a = 0;
  while (a < w.size() && w[a] >= '0' && w[a] <= '9') ++a;
  if (a == 0) return false;
  std::size_t b = a;
  while (b < w.size() && ascii_letter(w[b])) ++b;
  for (std::size_t c = b; c < w.size(); ++c) {
    if (w[c] < '0' || w[c] > '9') return false;
  }
  return std::find(std::begin(kUnits), std::end(kUnits), w.substr(a, b - a)) != std::end(kUnits);
}

// The word pass: reads folded characters, writes the output.
// What the word rules need to know about a word, gathered while finding its end.
struct WordStats {
  std::size_t letters = 0;  // a-z
  std::uint8_t any = 0;     // union of the byte classes
  std::uint8_t all = 0xff;  // intersection of the byte classes
  bool run = false;         // three equal bytes in a row

  void add(const char* w, std::size_t k) {
    const std::uint8_t c = byte_class(w[k]);
    letters += (c & kLetter) != 0;
    any |= c;
    all &= c;
    run |= k >= 2 && w[k] == w[k - 1] && w[k] == w[k - 2];
  }
};

class WordFolder {
 public:
  WordFolder(const Characters& in, WordBytes& word, std::vector<std::uint64_t>& flags, Folded& out)
      : t_(in.text.data()),
        org_(in.origin.data()),
        in_ends_(in.ends),
        n_(in.size),
        out_(out),
        word_(word),
        flags_(flags) {}

  // With `simd` (the CPU has AVX-512 VBMI2), only the words word_flags_avx512() marks go
  // through step(); the others are copied unchanged, as step() would leave them.
  void run(std::uint32_t input_size, const detail::SimdWordTables* simd);

 private:
  // Every word through step(): the reference the vector step is tested against.
  void run_all();
  void run_flagged(const detail::SimdWordTables& tables);
  // Folds the word (or the spelled-out letters) starting at token byte i, the first after a
  // word boundary; returns where the next word may start.
  std::size_t step(std::size_t i);
  // Whether the word before a lone "k" at `word` is a number, as after_number_ would be had
  // every word since `boundary` (where step() last left it) gone through step().
  bool number_before(std::size_t boundary, std::size_t word) const;
  // Per word: leetspeak (d4t4 -> data) in words that are mostly letters, runs of three or more
  // equal letters collapsed (baaaan -> ban), then chat spellings (ko -> khong). Returns false
  // when the word is copied unchanged (nothing written), else writes it. `before` and `after`
  // are the bytes around the word, -1 at the ends.
  bool word(const char* w, const std::uint32_t* org, const std::uint32_t* end, std::size_t len, const WordStats& stats,
            int before, int after);
  // Where input byte k's character ends.
  std::uint32_t end_in(std::size_t k) const { return end_of(in_ends_, org_, k); }
  // Before writing a byte whose character begins at `origin` (see fold_characters).
  void junction(std::uint32_t origin) {
    if (!out_.text.empty() && last_end_ != origin) {
      out_.ends.push_back({static_cast<std::uint32_t>(out_.text.size() - 1), last_end_});
    }
  }
  void emit(char c, std::uint32_t origin, std::uint32_t end) {
    junction(origin);
    out_.text.push_back(c);
    out_.origin.push_back(origin);
    last_end_ = end;
  }
  // Bytes that all come from one input span (a chat spelling written out): each but the last
  // gets an entry, since it ends at `end` where the next begins at `origin` (no span is empty).
  void emit(std::string_view bytes, std::uint32_t origin, std::uint32_t end) {
    if (bytes.empty()) return;
    junction(origin);
    const auto first = static_cast<std::uint32_t>(out_.text.size());
    out_.text.append(bytes);
    out_.origin.insert(out_.origin.end(), bytes.size(), origin);
    for (std::uint32_t k = 0; k + 1 < bytes.size(); ++k) out_.ends.push_back({first + k, end});
    last_end_ = end;
  }
  // Back to the first `start` bytes written (fewer than are written).
  void truncate(std::size_t start) {
    // The last byte kept ends as its entry says, else where the first byte removed begins.
    last_end_ = out_.origin[start];
    while (!out_.ends.empty() && out_.ends.back().byte + 1 >= start) {
      if (out_.ends.back().byte + 1 == start) last_end_ = out_.ends.back().end;
      out_.ends.pop_back();
    }
    out_.text.resize(start);
    out_.origin.resize(start);
  }
  // Copies folded characters [copy_, upto) unchanged: their bytes, origins and the ends
  // between them.
  void flush(std::size_t upto) {
    if (upto > copy_) {
      const std::size_t from = copy_;
      junction(org_[from]);
      const auto shift = static_cast<std::uint32_t>(out_.text.size() - from);
      out_.text.append(t_ + from, upto - from);
      out_.origin.insert(out_.origin.end(), org_ + from, org_ + upto);
      auto e = first_end_from(in_ends_, from);
      for (; e != in_ends_.end() && e->byte + 1 < upto; ++e) out_.ends.push_back({e->byte + shift, e->end});
      last_end_ = e != in_ends_.end() && e->byte + 1 == upto ? e->end : org_[upto];
    }
    copy_ = upto;
  }
  // Input bytes from, from + stride, ... before `to` into word_, with each byte's span; with
  // stride 1 only the ends (word_.end), the bytes and origins being the input's.
  void gather(std::size_t from, std::size_t to, std::size_t stride) {
    word_.clear();
    auto e = first_end_from(in_ends_, from);
    for (std::size_t k = from; k < to; k += stride) {
      while (e != in_ends_.end() && e->byte < k) ++e;
      word_.end.push_back(e != in_ends_.end() && e->byte == k ? e->end : org_[k + 1]);
      if (stride == 1) continue;
      word_.text.push_back(t_[k]);
      word_.origin.push_back(org_[k]);
    }
  }

  const char* t_;
  const std::uint32_t* org_;  // n_ + 1 entries
  const std::vector<Folded::End>& in_ends_;
  std::size_t n_;
  Folded& out_;
  WordBytes& word_;                    // a word being rewritten, gathered
  std::vector<std::uint64_t>& flags_;  // word_flags_avx512's marks
  std::uint32_t last_end_ = 0;         // where the last byte written ends
  std::size_t copy_ = 0;               // start of the bytes still to copy
  std::size_t word_begin_ = 0;         // where the word being folded starts
  bool after_number_ = false;          // the previous word is a number ("150 k", "1.500 k")
};

bool WordFolder::word(const char* w, const std::uint32_t* org, const std::uint32_t* end, std::size_t len,
                      const WordStats& stats, int before, int after) {
  const std::size_t letters = stats.letters;
  const bool run = stats.run;
  const bool previous_number = std::exchange(after_number_, (stats.all & kDigit) != 0);
  if (len == 1 && w[0] == 'k' && !k_means_khong(before, after, previous_number)) return false;
  const std::size_t others = len - letters;
  // "4g", "50k", "2024" keep their digits; "d4t4", "kh4ch", "b@n", "$im", "r3" lose them.
  // Amounts with a unit keep their digits too: "3tr", "1tr5", "12usdt", "5kg".
  const bool leet = (stats.any & kLeet) != 0 && letters >= others && (letters >= 2 || ascii_letter(w[0])) &&
                    w[0] != '@' && !amount_with_unit(std::string_view(w, len));
  // Most words need none of this: no leet characters, no letter run, too long to be a chat
  // spelling. They are copied as they are.
  if (!leet && !run) {
    const std::string_view replacement = kSpellingTable.find(w, len);
    if (replacement.empty()) return false;
    flush(word_begin_);
    emit(replacement, org[0], end[len - 1]);
    return true;
  }
  flush(word_begin_);
  const std::size_t start = out_.text.size();
  for (std::size_t k = 0; k < len;) {
    const char c = leet ? leet_letter(w[k]) : w[k];
    std::size_t run_end = k + 1;
    while (ascii_letter(c) && run_end < len && (leet ? leet_letter(w[run_end]) : w[run_end]) == c) ++run_end;
    // Three or more equal letters inside or at the end of a word are emphasis ("baaaan");
    // two may be spelling ("facebook"), and at the start they are initials ("cccd", "www").
    if (run_end - k >= 3 && k > 0) {
      emit(c, org[k], end[run_end - 1]);
    } else {
      for (std::size_t m = k; m < run_end; ++m) emit(c, org[m], end[m]);
    }
    k = run_end;
  }
  const std::string_view replacement = kSpellingTable.find(out_.text.data() + start, out_.text.size() - start);
  if (!replacement.empty()) {
    truncate(start);
    emit(replacement, org[0], end[len - 1]);
  }
  return true;
}

void WordFolder::run(std::uint32_t input_size, const detail::SimdWordTables* simd) {
  out_.text.clear();
  out_.origin.clear();
  out_.ends.clear();
  out_.text.reserve(n_ + 16);
  out_.origin.reserve(n_ + 17);
  if (simd != nullptr) {
    run_flagged(*simd);
  } else {
    run_all();
  }
  flush(n_);
  junction(input_size);
  out_.origin.push_back(input_size);
}

void WordFolder::run_all() {
  std::size_t i = 0;
  while (true) {
    while (i < n_ && !token_char(t_[i])) ++i;
    if (i == n_) break;
    i = step(i);
  }
}

void WordFolder::run_flagged(const detail::SimdWordTables& tables) {
  const char* t = t_;
  const std::size_t n = n_;
  const std::size_t blocks = (n + 63) / 64;
  if (flags_.size() < blocks) flags_.resize(blocks);
  detail::word_flags_avx512(t, n, tables, flags_.data());
  std::size_t boundary = 0;  // where step() left off: not inside a word
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t block = 64 * b;
    if (boundary >= block + 64) continue;
    std::uint64_t pending = flags_[b];
    if (boundary > block) pending &= ~std::uint64_t{0} << (boundary - block);
    while (pending != 0) {
      // The word of the first marked byte: every word between boundary and it is unchanged.
      std::size_t word = block + static_cast<std::size_t>(__builtin_ctzll(pending));
      while (word > boundary && token_char(t[word - 1])) --word;
      if (t[word] == 'k' && (word + 1 == n || !token_char(t[word + 1]))) after_number_ = number_before(boundary, word);
      boundary = step(word);
      if (boundary >= block + 64) break;
      pending &= ~std::uint64_t{0} << (boundary - block);
    }
  }
}

bool WordFolder::number_before(std::size_t boundary, std::size_t word) const {
  std::size_t end = word;
  while (end > boundary && !token_char(t_[end - 1])) --end;
  if (end == boundary) return after_number_;  // the word before went through step()
  std::size_t begin = end;
  while (begin > boundary && token_char(t_[begin - 1])) --begin;
  for (std::size_t k = begin; k < end; ++k) {
    if ((byte_class(t_[k]) & kDigit) == 0) return false;
  }
  return true;
}

std::size_t WordFolder::step(std::size_t i) {
  const char* t = t_;
  const std::size_t n = n_;
  {  // the former loop body, unchanged but for its ends
    WordStats stats;
    stats.add(t + i, 0);
    std::size_t j = i + 1;
    for (; j < n && token_char(t[j]); ++j) stats.add(t + i, j - i);
    // "d.a.t.a", "d a t a", "d-a-t-a": single letters joined by one repeated separator become
    // one word ("data"). Three letters at least (four with spaces, where "o a b" can be real
    // words); two with dots when the next or previous word is dotted too ("d.ữ l.i.ệ.u").
    if (j == i + 1 && j < n && (t[j] == '.' || t[j] == ' ' || t[j] == '-' || t[j] == '_' || t[j] == '*')) {
      const char sep = t[j];
      auto single_at = [&](std::size_t k) {
        return k < n && token_char(t[k]) && static_cast<unsigned char>(t[k]) < 0x80 &&
               (k + 1 == n || !token_char(t[k + 1]));
      };
      std::size_t last = i;
      std::size_t letters = 1;
      while (last + 2 < n && t[last + 1] == sep && single_at(last + 2)) {
        last += 2;
        ++letters;
      }
      // Two dotted letters count next to another dotted group: "d.ữ l.i.ệ.u", "t.h.u m.u.a d.ữ".
      const bool dotted_neighbour =
          sep == '.' && letters == 2 &&
          ((last + 3 < n && t[last + 1] == ' ' && single_at(last + 2) && t[last + 3] == '.') ||
           (i >= 3 && t[i - 1] == ' ' && t[i - 3] == '.' && token_char(t[i - 2]) && !token_char(t[i - 3])));
      if (letters >= (sep == ' ' ? 4u : 3u) || dotted_neighbour) {
        gather(i, last + 1, 2);
        const WordBytes& joined = word_;
        WordStats joined_stats;
        for (std::size_t k = 0; k < joined.text.size(); ++k) joined_stats.add(joined.text.data(), k);
        flush(i);
        word_begin_ = i;
        if (!word(joined.text.data(), joined.origin.data(), joined.end.data(), joined.text.size(), joined_stats,
                  i > 0 ? static_cast<unsigned char>(t[i - 1]) : -1,
                  last + 1 < n ? static_cast<unsigned char>(t[last + 1]) : -1)) {
          for (std::size_t k = 0; k < joined.text.size(); ++k) emit(joined.text[k], joined.origin[k], joined.end[k]);
        }
        copy_ = last + 1;
        return last + 1;
      }
    }
    const std::size_t len = j - i;
    if ((stats.any & kLeet) == 0 && !stats.run && !(len == 1 && t[i] == 'k')) {
      // The common case, kept inline: the word is copied unless it is a chat spelling.
      after_number_ = (stats.all & kDigit) != 0;
      // No branch on the length, which varies from word to word: longer words get a key no
      // spelling has (0xff is never in UTF-8).
      std::uint32_t key;
      std::memcpy(&key, t + i, 4);  // the buffer has slack past the text
      key = len <= 4 ? key & (0xffffffffu >> (8 * (4 - len))) : 0xffffffffu;
      const std::string_view replacement = kSpellingTable.find(key);
      if (!replacement.empty()) {
        flush(i);
        emit(replacement, org_[i], end_in(j - 1));
        copy_ = j;
      }
      return j;
    }
    word_begin_ = i;
    gather(i, j, 1);
    if (word(t + i, org_ + i, word_.end.data(), len, stats, i > 0 ? static_cast<unsigned char>(t[i - 1]) : -1,
             j < n ? static_cast<unsigned char>(t[j]) : -1)) {
      copy_ = j;  // word() wrote it
    }
    return j;
  }
}

}  // namespace

const detail::SimdWordTables* detail::simd_word_tables() {
  static const detail::SimdWordTables* kTables = []() -> const detail::SimdWordTables* {
    if (!detail::simd_fold_supported()) return nullptr;
    auto* t = new detail::SimdWordTables();
    for (int b = 0; b < 128; ++b) {
      const std::uint8_t c = byte_class(static_cast<char>(b));
      for (auto& table : t->at) {
        if ((c & kToken) != 0) table[b] |= detail::kWordByte;
      }
      if ((c & kLeet) != 0) t->at[0][b] |= detail::kWordLeet;
      if ((c & kLetter) != 0) t->at[0][b] |= detail::kWordLetter;
      if (b == '.' || b == ' ' || b == '-' || b == '_' || b == '*') t->at[1][b] |= detail::kWordJoin;
    }
    std::uint8_t high[4] = {detail::kWordByte, detail::kWordByte, detail::kWordByte, detail::kWordByte};
    for (const auto& sp : kSpellings) {
      const std::size_t m = sp.chat.size();
      if (m == 0 || m > 4) continue;  // SpellingTable::find never matches these
      const auto bit = static_cast<std::uint8_t>(detail::kWordSpelling1 << (m - 1));
      for (std::size_t k = 0; k < 4; ++k) {
        for (int b = 0; b < 128; ++b) {
          if (k >= m || b == static_cast<unsigned char>(sp.chat[k])) t->at[k][b] |= bit;
        }
        if (k >= m) high[k] |= bit;  // past the spelling's end any byte will do
      }
    }
    for (std::size_t k = 0; k < 4; ++k) std::fill(std::begin(t->high[k]), std::end(t->high[k]), high[k]);
    // Two-byte spellings: first bytes grouped by the set of bytes that follow them (the
    // groups past the eighth share the last bit: a coarser filter, never a wrong one).
    std::array<std::uint64_t, 128> followers_lo{}, followers_hi{};
    for (const auto& sp : kSpellings) {
      if (sp.chat.size() != 2) continue;
      const auto first = static_cast<unsigned char>(sp.chat[0]);
      const auto second = static_cast<unsigned char>(sp.chat[1]);
      (second < 64 ? followers_lo : followers_hi)[first] |= std::uint64_t{1} << (second & 63);
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> groups;
    for (int first = 0; first < 128; ++first) {
      const std::pair<std::uint64_t, std::uint64_t> followers{followers_lo[first], followers_hi[first]};
      if (followers.first == 0 && followers.second == 0) continue;
      auto group = std::find(groups.begin(), groups.end(), followers) - groups.begin();
      if (group == static_cast<std::ptrdiff_t>(groups.size())) groups.push_back(followers);
      const auto bit = static_cast<std::uint8_t>(1u << std::min<std::ptrdiff_t>(group, 7));
      t->pair_first[first] |= bit;
      for (int second = 0; second < 128; ++second) {
        if (((second < 64 ? followers.first : followers.second) >> (second & 63)) & 1) t->pair_second[second] |= bit;
      }
    }
    return t;
  }();
  return kTables;
}

void detail::fold(std::string_view utf8, Folded& out, bool simd_characters, bool simd_words) {
  thread_local Characters characters;
  thread_local WordBytes word;
  thread_local std::vector<std::uint64_t> flags;
  fold_characters(utf8, characters, simd_characters ? detail::simd_fold_tables() : nullptr);
  WordFolder(characters, word, flags, out)
      .run(static_cast<std::uint32_t>(utf8.size()), simd_words ? detail::simd_word_tables() : nullptr);
}

void fold(std::string_view utf8, Folded& out) {
  detail::fold(utf8, out, true, true);
}

std::uint32_t Folded::origin_end(std::size_t k) const {
  return end_of(ends, origin.data(), k);
}

std::size_t code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace vigil::text
