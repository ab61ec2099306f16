// The AVX-512 candidate pass. The SSE2 pass (extract.cc) finds bytes that may matter with a
// dozen compares per 16 bytes and hands each to visit(), which looks at the bytes around it
// and mostly decides that nothing starts there (a digit inside a word or a number, a '.' that
// ends a sentence, a 'd' after a space that is no " dot "). Here each 64-byte block is loaded
// three times, at the byte itself, one after and one before, and each load is looked up with
// vpermi2b (128-entry tables; bytes >= 0x80 are word bytes of no other class) in its own
// table, so that bit k of the three lookups are the three parts of visit()'s condition k
// ("a digit" here, "not a word byte" before): one vpternlog ANDs them and one vptestmb per
// list gives exactly the positions visit() would append. They are written through a pointer
// into room made beforehand, the first one or two of a block without a branch (most blocks
// have none or one per list). URL obfuscations are rare: a superset of their starts ("hx",
// "[." "(d"..., "dot") is checked with obfuscation_at(), the function visit() uses, until one
// is found. 3.6x faster than the SSE2 pass on the benchmark corpus's texts.
//
// Compiled for the default target: only the functions below carry the AVX-512 target
// attribute, and scan() calls them only when the CPU has the features (checked at run time).

#include <algorithm>
#include <cstdint>

#include "common/extract/scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vigil::extract::detail {

#if defined(__x86_64__)

bool simd_scan_supported() {
  static const bool kSupported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
           __builtin_cpu_supports("popcnt");
  }();
  return kSupported;
}

#define VIGIL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi,bmi2,popcnt")))

namespace {

// Bit k of (this byte's class) & (next byte's class) & (previous byte's class): condition k
// of visit() holds at the byte. A bit a condition does not look at is set in that table.
enum : std::uint8_t {
  kUrlMark = 0x01,     // '.' or ':', next not a URL delimiter
  kDigitStart = 0x02,  // digit, previous not a word byte
  kPhoneZero = 0x04,   // '0' or '8', previous neither a word byte nor '+'
  kPhonePlus = 0x08,   // '+', 'O' or 'o', next a digit, previous neither a word byte nor '+'
  kAt = 0x10,          // '@'
  kHxxp = 0x20,        // 'h' or 'H', next 'x' or 'X' (maybe "hxxp")
  kBracket = 0x40,     // '[', '(' or '{', next '.', ':', '/', 'd' or 'D' (maybe "[.]", "(dot)", "[:]"...)
  kDot = 0x80,         // 'o' or 'O', next 't' or 'T', previous 'd' or 'D' (maybe " dot ": starts 2 before)
  kAll = 0xff,
};

struct Tables {
  alignas(64) std::uint8_t here[128];
  alignas(64) std::uint8_t next[128];
  alignas(64) std::uint8_t previous[128];
};

// The classes of bytes >= 0x80 (word bytes, nothing else): none here, and next / previous:
inline constexpr std::uint8_t kHighNext = kAll & ~(kPhonePlus | kHxxp | kBracket | kDot);
inline constexpr std::uint8_t kHighPrevious = kAll & ~(kDigitStart | kPhoneZero | kPhonePlus | kDot);

constexpr Tables kTables = [] {
  Tables t{};
  for (int c = 0; c < 128; ++c) {
    const bool digit = c >= '0' && c <= '9';
    const bool word = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');  // text::is_word_byte
    const int lower = c >= 'A' && c <= 'Z' ? c + 32 : c;
    std::uint8_t here = 0;
    if (c == '.' || c == ':') here |= kUrlMark;
    if (digit) here |= kDigitStart;
    if (c == '0' || c == '8') here |= kPhoneZero;
    if (c == '+' || lower == 'o') here |= kPhonePlus;
    if (c == '@') here |= kAt;
    if (lower == 'h') here |= kHxxp;
    if (c == '[' || c == '(' || c == '{') here |= kBracket;
    if (lower == 'o') here |= kDot;
    t.here[c] = here;
    std::uint8_t next = kAll & ~(kUrlMark | kPhonePlus | kHxxp | kBracket | kDot);
    if (!url_delimiter_byte(static_cast<unsigned char>(c))) next |= kUrlMark;
    if (digit) next |= kPhonePlus;
    if (lower == 'x') next |= kHxxp;
    if (c == '.' || c == ':' || c == '/' || lower == 'd') next |= kBracket;
    if (lower == 't') next |= kDot;
    t.next[c] = next;
    std::uint8_t previous = kAll & ~(kDigitStart | kPhoneZero | kPhonePlus | kDot);
    if (!word) previous |= kDigitStart;
    if (!word && c != '+') previous |= kPhoneZero | kPhonePlus;
    if (lower == 'd') previous |= kDot;
    t.previous[c] = previous;
  }
  return t;
}();

static_assert(!url_delimiter_byte(0x80) && (kHighNext & kUrlMark) != 0);

// text[from, from + 64) with from possibly -1: 0 for the bytes outside the text (a NUL is a
// URL delimiter and in no other class, so "the next byte" past the end is never a digit, a
// URL byte or part of an obfuscation, and "the byte before" the text is no word byte and no
// '+', as visit()'s bounds checks say).
VIGIL_AVX512 inline __m512i load(const char* s, std::ptrdiff_t from, std::ptrdiff_t n) {
  if (from >= 0 && from + 64 <= n) return _mm512_loadu_si512(reinterpret_cast<const void*>(s + from));
  const std::ptrdiff_t first = from < 0 ? -from : 0;  // lanes before the text
  const std::ptrdiff_t end = n - from;                // lanes before the text's end
  std::uint64_t lanes = end >= 64 ? ~std::uint64_t{0} : _bzhi_u64(~std::uint64_t{0}, static_cast<unsigned>(end));
  lanes &= ~std::uint64_t{0} << first;
  // The address of lane 0, which may lie before the text: only lanes inside it are read.
  const auto lane0 = reinterpret_cast<std::uintptr_t>(s) + static_cast<std::uintptr_t>(from);
  return _mm512_maskz_loadu_epi8(lanes, reinterpret_cast<const void*>(lane0));
}

VIGIL_AVX512 inline __m512i table(const std::uint8_t* t) {
  return _mm512_load_si512(reinterpret_cast<const void*>(t));
}

VIGIL_AVX512 inline std::uint64_t lanes_with(__m512i v, __m512i bits) {
  return _cvtmask64_u64(_mm512_test_epi8_mask(v, bits));
}

// Writes base + k for each bit k of m at `at` (room for 64) and returns the new end: the first
// two without a branch (a block rarely has more), so that how many there are is no branch to
// mispredict.
VIGIL_AVX512 inline std::uint32_t* put(std::uint32_t* at, std::uint64_t m, std::size_t base) {
  const auto count = static_cast<std::size_t>(_mm_popcnt_u64(m));
  at[0] = static_cast<std::uint32_t>(base + _tzcnt_u64(m));  // (base + 64 for none: not kept)
  m = _blsr_u64(m);
  at[1] = static_cast<std::uint32_t>(base + _tzcnt_u64(m));
  if (count > 2) [[unlikely]] {
    std::uint32_t* p = at + 2;
    for (m = _blsr_u64(m); m != 0; m = _blsr_u64(m)) *p++ = static_cast<std::uint32_t>(base + _tzcnt_u64(m));
  }
  return at + count;
}

// put() for lists that rarely get more than one position from a block.
VIGIL_AVX512 inline std::uint32_t* put1(std::uint32_t* at, std::uint64_t m, std::size_t base) {
  const auto count = static_cast<std::size_t>(_mm_popcnt_u64(m));
  at[0] = static_cast<std::uint32_t>(base + _tzcnt_u64(m));
  if (count > 1) [[unlikely]] {
    std::uint32_t* p = at + 1;
    for (m = _blsr_u64(m); m != 0; m = _blsr_u64(m)) *p++ = static_cast<std::uint32_t>(base + _tzcnt_u64(m));
  }
  return at + count;
}

// Whether an obfuscation starts at one of the maybes of the block at `base`.
[[gnu::noinline]] bool obfuscation_in(std::string_view text, std::size_t base, std::uint64_t hxxp_or_bracket,
                                      std::uint64_t dot) {
  for (; hxxp_or_bracket != 0; hxxp_or_bracket &= hxxp_or_bracket - 1) {
    if (obfuscation_at(text, base + static_cast<std::size_t>(__builtin_ctzll(hxxp_or_bracket)))) return true;
  }
  for (; dot != 0; dot &= dot - 1) {
    const std::size_t o = base + static_cast<std::size_t>(__builtin_ctzll(dot));
    if (o >= 2 && obfuscation_at(text, o - 2)) return true;
  }
  return false;
}

}  // namespace

VIGIL_AVX512 void scan_avx512(std::string_view text, Candidates& c) {
  c.obfuscated = false;
  const char* s = text.data();
  const auto n = static_cast<std::ptrdiff_t>(text.size());
  const __m512i here_lo = table(kTables.here), here_hi = table(kTables.here + 64);
  const __m512i next_lo = table(kTables.next), next_hi = table(kTables.next + 64);
  const __m512i previous_lo = table(kTables.previous), previous_hi = table(kTables.previous + 64);
  const __m512i high_next = _mm512_set1_epi8(static_cast<char>(kHighNext));
  const __m512i high_previous = _mm512_set1_epi8(static_cast<char>(kHighPrevious));
  const __m512i url_mark = _mm512_set1_epi8(kUrlMark), digit_start = _mm512_set1_epi8(kDigitStart),
                phone = _mm512_set1_epi8(kPhoneZero | kPhonePlus), at = _mm512_set1_epi8(kAt),
                obfuscation = _mm512_set1_epi8(static_cast<char>(kHxxp | kBracket | kDot));
  std::uint32_t* url_marks = c.url_marks.data();
  std::uint32_t* ats = c.ats.data();
  std::uint32_t* digit_starts = c.digit_starts.data();
  std::uint32_t* phone_starts = c.phone_starts.data();
  constexpr std::ptrdiff_t kStretch = 16 * 64;
  for (std::ptrdiff_t from = 0; from < n;) {
    // Room for 64 positions per block of the stretch, so that blocks need not check.
    const std::ptrdiff_t stretch_end = std::min(n, from + kStretch);
    const auto count = static_cast<std::size_t>((stretch_end - from + 63) / 64 * 64);
    url_marks = c.url_marks.room(url_marks, count);
    ats = c.ats.room(ats, count);
    digit_starts = c.digit_starts.room(digit_starts, count);
    phone_starts = c.phone_starts.room(phone_starts, count);
    for (; from < stretch_end; from += 64) {
      // The block, and the same shifted by one byte either way.
      __m512i v, after, before;
      if (from >= 1 && from + 65 <= n) [[likely]] {
        v = _mm512_loadu_si512(reinterpret_cast<const void*>(s + from));
        after = _mm512_loadu_si512(reinterpret_cast<const void*>(s + from + 1));
        before = _mm512_loadu_si512(reinterpret_cast<const void*>(s + from - 1));
      } else {
        v = load(s, from, n);
        after = load(s, from + 1, n);
        before = load(s, from - 1, n);
      }
      // Bytes >= 0x80: nothing here, kHighNext / kHighPrevious next to it.
      const __m512i here = _mm512_maskz_permutex2var_epi8(~_mm512_movepi8_mask(v), here_lo, v, here_hi);
      const __m512i next = _mm512_mask_mov_epi8(_mm512_permutex2var_epi8(next_lo, after, next_hi),
                                                _mm512_movepi8_mask(after), high_next);
      const __m512i previous = _mm512_mask_mov_epi8(_mm512_permutex2var_epi8(previous_lo, before, previous_hi),
                                                    _mm512_movepi8_mask(before), high_previous);
      const __m512i holds = _mm512_ternarylogic_epi32(here, next, previous, 0x80);  // a & b & c
      const auto base = static_cast<std::size_t>(from);
      url_marks = put1(url_marks, lanes_with(holds, url_mark), base);
      // '@' is rare: a branch is cheaper than writing without one.
      if (const std::uint64_t m = lanes_with(holds, at); m != 0) [[unlikely]] {
        ats = put(ats, m, base);
      }
      digit_starts = put(digit_starts, lanes_with(holds, digit_start), base);
      phone_starts = put1(phone_starts, lanes_with(holds, phone), base);
      if (!c.obfuscated && lanes_with(holds, obfuscation) != 0) [[unlikely]] {
        c.obfuscated = obfuscation_in(text, base, lanes_with(holds, _mm512_set1_epi8(kHxxp | kBracket)),
                                      lanes_with(holds, _mm512_set1_epi8(static_cast<char>(kDot))));
      }
    }
  }
  c.url_marks.resize_written(static_cast<std::size_t>(url_marks - c.url_marks.data()));
  c.ats.resize_written(static_cast<std::size_t>(ats - c.ats.data()));
  c.digit_starts.resize_written(static_cast<std::size_t>(digit_starts - c.digit_starts.data()));
  c.phone_starts.resize_written(static_cast<std::size_t>(phone_starts - c.phone_starts.data()));
}

#else

bool simd_scan_supported() {
  return false;
}

void scan_avx512(std::string_view, Candidates&) {}

#endif

}  // namespace vigil::extract::detail
