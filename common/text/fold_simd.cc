// The vector step of fold's character pass. Vietnamese posts are ASCII, 2-byte letters
// (U+00C0..U+01B0), 3-byte letters of Latin Extended Additional (U+1EA0..U+1EF9), spaces and
// the odd emoji. The scalar loop spends ~29 cycles per character on such text, mostly on
// branches that cannot be predicted (1, 2 or 3 bytes, letter or space). Here a 64-byte block
// is classified at once: each character's fold is looked up at its lead byte with
// vpermb/vpermi2b in tables built from the scalar fold table, white space runs are found with
// mask arithmetic, and the folded bytes with their offsets are packed with vpcompressb.
// A block with anything else goes to the scalar loop, so the vector step only has to be
// right for the characters it accepts.
//
// Compiled for the default target: only the functions below carry the AVX-512 target
// attribute, and fold() calls them only when the CPU has the features (checked at run time).

#include "common/text/fold_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vigil::text::detail {

#if defined(__x86_64__)

bool simd_fold_supported() {
  static const bool kSupported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
           __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  }();
  return kSupported;
}

#define VIGIL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")))

namespace {

VIGIL_AVX512 inline __m512i table(const std::uint8_t* t) {
  return _mm512_load_si512(reinterpret_cast<const void*>(t));
}

// A byte in every lane, broadcast from the tables: a constant GCC knows it rebuilds inside the
// loop with vpbroadcastb from a register, a port-5 uop each time, and port 5 is what limits a
// block (compares, permutes, compresses); a broadcast from memory is a load. 10-18 % faster.
VIGIL_AVX512 inline __m512i bytes(const SimdFoldTables& tb, std::uint8_t b) {
  return _mm512_set1_epi32(static_cast<int>(tb.byte_x4[b]));
}

// Lanes [0, count) of a 64-lane mask; count in 0..64.
VIGIL_AVX512 inline __mmask64 lanes_below(std::int64_t count) {
  if (count <= 0) return 0;
  return _bzhi_u64(~std::uint64_t{0}, static_cast<unsigned>(count < 64 ? count : 64));
}

// Length in bytes of the well-formed character whose lead byte is b.
inline std::uint32_t char_length(std::uint8_t b) {
  return 1u + (b >= 0xc0) + (b >= 0xe0) + (b >= 0xf0);
}

// The first and the last lane of a mask that is not empty.
inline int first_lane(std::uint64_t m) {
  return __builtin_ctzll(m);
}
inline int last_lane(std::uint64_t m) {
  return 63 - __builtin_clzll(m);
}

// Stores 16 offsets: base + the 16 bytes of `lanes` from 16 * part on, each widened to 32
// bits by one vpermb into the low byte of each dword (the other bytes zeroed by the mask).
template <int part>
VIGIL_AVX512 inline void store_offsets(std::uint32_t* out, __m512i lanes, __m512i base) {
  const __m512i widen = _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(16 * part));
  const __m512i wide = _mm512_maskz_permutexvar_epi8(0x1111111111111111, widen, lanes);
  _mm512_storeu_si512(reinterpret_cast<void*>(out + std::size_t{16} * part), _mm512_add_epi32(wide, base));
}

// Whether a character whose lead byte is b starts at byte 61, 62 or 63 of a block and so runs
// past it (a 4-byte lead at 61, a 3- or 4-byte one at 62, any lead at 63).
inline int crosses_at_61(std::uint8_t b) {
  return static_cast<std::uint8_t>(b - 0xf0) < 5;
}
inline int crosses_at_62(std::uint8_t b) {
  return static_cast<std::uint8_t>(b - 0xe0) < 0xf5 - 0xe0;
}
inline int crosses_at_63(std::uint8_t b) {
  return static_cast<std::uint8_t>(b - 0xc2) < 0xf5 - 0xc2;
}

// One block at s[i]: returns the bytes folded (whole characters, up to 64), or 0 when the
// block has a character the vector step does not handle or ill-formed UTF-8; then nothing was
// written and `c` is unchanged. kFull when the text goes on for at least 66 bytes from i.
//
// The next block starts where this one's last whole character ends, so that is the loop's
// critical path: with kFull it is found from the block's last three bytes with scalar loads
// and plain vector loads, not from the vector masks (14 % faster on the benchmark texts).
template <bool kFull>
VIGIL_AVX512 std::int32_t fold_block(const std::uint8_t* s, std::int32_t i, std::int32_t length,
                                     const SimdFoldTables& tb, CharacterCursor& c) {
  const std::int64_t rem = length - i;
  const __mmask64 valid = kFull ? ~std::uint64_t{0} : lanes_below(rem);
  // Each lane also needs the two bytes after it (the trail bytes of a character starting
  // there); masked loads never touch memory past the text (and no pointer goes past its end).
  __m512i v, b1, b2;
  if constexpr (kFull) {
    v = _mm512_loadu_si512(s + i);
    b1 = _mm512_loadu_si512(s + i + 1);
    b2 = _mm512_loadu_si512(s + i + 2);
  } else {
    v = _mm512_maskz_loadu_epi8(valid, s + i);
    b1 = _mm512_maskz_loadu_epi8(lanes_below(rem - 1), s + i + 1);
    b2 = _mm512_maskz_loadu_epi8(lanes_below(rem - 2), s + i + (rem > 1 ? 2 : 1));
  }

  // UTF-8 structure. Lanes past the text are 0 (ASCII) and never part of the block.
  const __mmask64 non_ascii = _mm512_movepi8_mask(v);
  const __mmask64 ascii = ~non_ascii & valid;
  const __mmask64 cont = _mm512_cmplt_epi8_mask(v, bytes(tb, 0xc0));  // 80..BF (signed compare)
  const __mmask64 lead2 = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, bytes(tb, 0xc2)), bytes(tb, 0xe0 - 0xc2));
  const __mmask64 lead3 = _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, bytes(tb, 0xf0)), bytes(tb, 0xe0));
  const __mmask64 lead4 = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, bytes(tb, 0xf0)), bytes(tb, 5));
  const __mmask64 leads = lead2 | lead3 | lead4;
  const __mmask64 long_leads = lead3 | lead4;
  const __mmask64 bad_lead = non_ascii & ~cont & ~leads;  // C0, C1, F5..FF
  // Continuation bytes must be exactly those the lead bytes call for.
  const std::uint64_t expected = (leads << 1) | (long_leads << 2) | (lead4 << 3);
  // A character that does not end inside the 64 bytes is left to the next block.
  int cut;
  if constexpr (kFull) {
    const int at61 = crosses_at_61(s[i + 61]);
    const int at62 = crosses_at_62(s[i + 62]) | at61;
    const int at63 = crosses_at_63(s[i + 63]) | at62;
    cut = 64 - at61 - at62 - at63;
  } else {
    const std::uint64_t crossing = (leads & (std::uint64_t{1} << 63)) | (long_leads & (std::uint64_t{3} << 62)) |
                                   (lead4 & (std::uint64_t{7} << 61));
    cut = crossing != 0 ? first_lane(crossing) : 64;
  }
  const __mmask64 in_block = lanes_below(cut);
  // Checked up to the first byte of the next block too: a character that runs into it is
  // ill-formed. Also catches a character cut off by the end of the text (its missing bytes
  // read as 0).
  if ((((cont ^ expected) | bad_lead) & lanes_below(cut + 1)) != 0) return 0;
  const __mmask64 chars = valid & in_block;
  const __mmask64 lead_lanes = leads & chars;

  // The fold of each non-ASCII character, looked up at its lead byte. Index: low 6 bits of
  // the last byte, bit 6 from the byte before it (vpermi2b picks one of two 64-entry tables).
  // Vietnamese letters lie in three table pairs: lead bytes C3 and C4, C5 and C6 (bit 6 is the
  // lead byte's bit 0 inverted, so that these pair up), E1 BA and BB. The tables' other rows
  // (C2, C7, E1 B8..B9) are looked up only in a block that has one (`missing` below).
  const __m512i bit6 = bytes(tb, 0x40);
  const __m512i idx2 = _mm512_ternarylogic_epi32(b1, _mm512_slli_epi16(v, 6), bit6, 0xf2);     // b1 | (~v<<6 & 0x40)
  const __m512i idx3 = _mm512_ternarylogic_epi32(b2, _mm512_slli_epi16(b1, 6), bit6, 0xf8);    // b2 | (b1<<6 & 0x40)
  const __m512i v_pair = _mm512_and_si512(_mm512_add_epi8(v, bytes(tb, 1)), bytes(tb, 0xfe));  // C3, C4 -> C4; ...
  const __m512i b1_pair = _mm512_and_si512(b1, bytes(tb, 0xfe));
  __m512i val = _mm512_maskz_mov_epi8(_mm512_cmpeq_epi8_mask(v_pair, bytes(tb, 0xc4)),
                                      _mm512_permutex2var_epi8(table(tb.latin[1]), idx2, table(tb.latin[2])));
  val = _mm512_mask_mov_epi8(val, _mm512_cmpeq_epi8_mask(v_pair, bytes(tb, 0xc6)),
                             _mm512_permutex2var_epi8(table(tb.latin[3]), idx2, table(tb.latin[4])));
  const __mmask64 e1 = _mm512_cmpeq_epi8_mask(v, bytes(tb, 0xe1));
  val = _mm512_mask_mov_epi8(
      val, _mm512_mask_cmpeq_epi8_mask(e1, b1_pair, bytes(tb, 0xba)),
      _mm512_permutex2var_epi8(table(tb.latin_additional[2]), idx3, table(tb.latin_additional[3])));
  // Punctuation, symbols, variation selectors and emoji are rare: looked up only when present.
  if ((_mm512_cmpge_epu8_mask(v, bytes(tb, 0xe2)) & lead_lanes) != 0) {
    const __mmask64 e2 = _mm512_cmpeq_epi8_mask(v, bytes(tb, 0xe2)) & lead_lanes;
    const __mmask64 punctuation = _mm512_mask_cmpeq_epi8_mask(e2, b1_pair, bytes(tb, 0x80));
    val = _mm512_mask_mov_epi8(val, punctuation,
                               _mm512_permutex2var_epi8(table(tb.punctuation[0]), idx3, table(tb.punctuation[1])));
    const __mmask64 ef = _mm512_cmpeq_epi8_mask(v, bytes(tb, 0xef));
    val = _mm512_mask_permutexvar_epi8(val, _mm512_mask_cmpeq_epi8_mask(ef, b1, bytes(tb, 0xb8)), b2,
                                       table(tb.variation));
    // Symbols (E2 82..BF yy: U+2080..U+2FFF, arrows, ✅ ❤ ⚠ ⭐ ...) and emoji (F0 9F xx yy): a bit
    // per code point, tested lane by lane (a few a block at most); only drops are handled.
    std::uint64_t symbols = e2 & ~punctuation;
    const __mmask64 f0 = _mm512_cmpeq_epi8_mask(v, bytes(tb, 0xf0)) & lead_lanes;
    std::uint64_t emoji = _mm512_mask_cmpeq_epi8_mask(f0, b1, bytes(tb, 0x9f));
    std::uint64_t dropped = 0;
    for (; symbols != 0; symbols &= symbols - 1) {
      const int lane = first_lane(symbols);
      dropped |= ((tb.symbols_dropped[s[i + lane + 1] & 0x3f] >> (s[i + lane + 2] & 0x3f)) & 1) << lane;
    }
    for (; emoji != 0; emoji &= emoji - 1) {
      const int lane = first_lane(emoji);
      dropped |= ((tb.emoji_dropped[s[i + lane + 2] & 0x3f] >> (s[i + lane + 3] & 0x3f)) & 1) << lane;
    }
    val = _mm512_mask_mov_epi8(val, dropped, bytes(tb, kSimdDrop));
  }
  // Lead bytes still kSimdOther (0): the rarer rows, then any other lead byte sends the block
  // to the scalar loop.
  if (const __mmask64 missing = _mm512_mask_cmpeq_epi8_mask(lead_lanes, val, _mm512_setzero_si512()); missing != 0) {
    const __mmask64 c2_c7 = _mm512_mask_cmpeq_epi8_mask(missing, v, bytes(tb, 0xc2)) |
                            _mm512_mask_cmpeq_epi8_mask(missing, v, bytes(tb, 0xc7));
    val = _mm512_mask_mov_epi8(val, c2_c7, _mm512_permutex2var_epi8(table(tb.latin[5]), idx2, table(tb.latin[0])));
    val = _mm512_mask_mov_epi8(
        val, _mm512_mask_cmpeq_epi8_mask(missing & e1, b1_pair, bytes(tb, 0xb8)),
        _mm512_permutex2var_epi8(table(tb.latin_additional[0]), idx3, table(tb.latin_additional[1])));
    if (_mm512_mask_cmpeq_epi8_mask(lead_lanes, val, _mm512_setzero_si512()) != 0) return 0;
  }

  // From here on the block is folded. Characters by what they do:
  const __mmask64 ascii_space = (_mm512_cmpeq_epi8_mask(v, bytes(tb, ' ')) |
                                 _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, bytes(tb, '\t')), bytes(tb, 5))) &
                                ascii & chars;
  const __mmask64 space = ascii_space | _mm512_mask_cmpeq_epi8_mask(lead_lanes, val, bytes(tb, kSimdSpace));
  const __mmask64 letter =
      (ascii & chars & ~ascii_space) | _mm512_mask_cmplt_epu8_mask(lead_lanes, val, bytes(tb, 0x80));
  const std::int32_t used = kFull ? cut : static_cast<std::int32_t>(rem < cut ? rem : cut);

  const __m512i iota =
      _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40,
                      39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                      15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const auto block = static_cast<std::uint32_t>(i);
  auto end_of = [&](int lane) { return block + static_cast<std::uint32_t>(lane) + char_length(s[i + lane]); };
  // The white space in `run` (lanes of one run) continues a pending run or starts one, never at
  // the start of the output, as the scalar space() does.
  auto take_space = [&](std::uint64_t run) {
    if (run == 0) return;
    if (c.pending_space) {
      c.space_end = end_of(last_lane(run));
    } else if (c.n != 0) {
      c.pending_space = true;
      c.space_origin = block + static_cast<std::uint32_t>(first_lane(run));
      c.space_end = end_of(last_lane(run));
    }
  };

  if (letter == 0) {
    take_space(space);  // only spaces and dropped characters
    return used;
  }
  const int first_letter = first_lane(letter);
  const int last_letter = last_lane(letter);
  // The run before the first letter continues a pending one or starts one; either way it is
  // written now, before the letter.
  take_space(space & lanes_below(first_letter));
  std::size_t n = c.n;
  if (c.pending_space) {
    if (n != 0 && c.last_end != c.space_origin) c.ends->push_back({static_cast<std::uint32_t>(n - 1), c.last_end});
    c.text[n] = ' ';
    c.origin[n] = c.space_origin;
    ++n;
    c.last_end = c.space_end;
    c.pending_space = false;
  }
  // Runs between letters: one space each, at the run's first space, ending where its last
  // space ends (dropped characters inside a run do not break it). pext packs the spaces and
  // letters together, so "the one before is a letter" is a shift; pdep puts them back.
  const std::uint64_t kept = space | letter;
  const std::uint64_t packed_space = _pext_u64(space, kept);
  const std::uint64_t packed_letter = _pext_u64(letter, kept);
  const std::uint64_t run_first = _pdep_u64(packed_space & (packed_letter << 1), kept) & lanes_below(last_letter);
  const __m512i lowered = _mm512_mask_add_epi8(
      v, _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, bytes(tb, 'A')), bytes(tb, 26)), v, bytes(tb, 32));
  __m512i out = _mm512_mask_mov_epi8(lowered, lead_lanes, val);
  out = _mm512_mask_mov_epi8(out, run_first, bytes(tb, ' '));

  const __mmask64 written = letter | run_first;
  _mm512_storeu_si512(reinterpret_cast<void*>(c.text + n), _mm512_maskz_compress_epi8(written, out));
  const __m512i origin_lanes = _mm512_maskz_compress_epi8(written, iota);
  const __m512i base = _mm512_set1_epi32(static_cast<int>(block));
  store_offsets<0>(c.origin + n, origin_lanes, base);
  store_offsets<1>(c.origin + n, origin_lanes, base);
  store_offsets<2>(c.origin + n, origin_lanes, base);
  store_offsets<3>(c.origin + n, origin_lanes, base);
  // Ends (see Folded): does the byte before this block's first (its first letter) end where
  // that letter begins? Inside the block each byte ends where the next begins (a letter where
  // the next character begins; a space run where its last white space ends, just before the
  // next letter), unless a dropped character comes between them.
  if (n != 0 && c.last_end != block + static_cast<std::uint32_t>(first_letter)) {
    c.ends->push_back({static_cast<std::uint32_t>(n - 1), c.last_end});
  }
  const int count = static_cast<int>(_mm_popcnt_u64(written));
  if (_mm512_mask_cmpeq_epi8_mask(lead_lanes, val, bytes(tb, kSimdDrop)) != 0) {
    // Each written byte's end, relative to the block, against the next one's origin: lane +
    // length; a space run's end moved from its last space to its first (compress, expand).
    const __m512i one = bytes(tb, 1);
    __m512i ends = _mm512_add_epi8(iota, one);
    ends = _mm512_mask_add_epi8(ends, leads, ends, one);
    ends = _mm512_mask_add_epi8(ends, long_leads, ends, one);
    ends = _mm512_mask_add_epi8(ends, lead4, ends, one);
    const std::uint64_t run_last = _pdep_u64(packed_space & (packed_letter >> 1), kept) & ~lanes_below(first_letter);
    ends = _mm512_mask_expand_epi8(ends, run_first, _mm512_maskz_compress_epi8(run_last, ends));
    const __m512i end_lanes = _mm512_maskz_compress_epi8(written, ends);
    const __m512i next_origin =
        _mm512_maskz_permutexvar_epi8(~std::uint64_t{0}, _mm512_add_epi8(iota, one), origin_lanes);
    std::uint64_t differ = _mm512_cmpneq_epi8_mask(end_lanes, next_origin) & lanes_below(count - 1);
    alignas(64) std::uint8_t end_bytes[64];
    _mm512_store_si512(reinterpret_cast<void*>(end_bytes), end_lanes);
    for (; differ != 0; differ &= differ - 1) {
      const int lane = first_lane(differ);
      c.ends->push_back({static_cast<std::uint32_t>(n) + static_cast<std::uint32_t>(lane), block + end_bytes[lane]});
    }
  }
  n += static_cast<std::size_t>(count);
  c.n = n;
  c.last_begin = n - 1;  // the last byte written is the last letter
  c.last_end = end_of(last_letter);
  // The run after the last letter waits for the next one.
  const std::uint64_t trailing = space & ~lanes_below(last_letter + 1);
  if (trailing != 0) {
    c.pending_space = true;
    c.space_origin = block + static_cast<std::uint32_t>(first_lane(trailing));
    c.space_end = end_of(last_lane(trailing));
  }
  return used;
}

}  // namespace

VIGIL_AVX512 std::int32_t fold_blocks_avx512(const std::uint8_t* s, std::int32_t i, std::int32_t length,
                                             const SimdFoldTables& tables, CharacterCursor& cursor) {
  while (length - i >= 66) {
    const std::int32_t used = fold_block<true>(s, i, length, tables, cursor);
    if (used == 0) return i;
    i += used;
  }
  while (i < length) {
    const std::int32_t used = fold_block<false>(s, i, length, tables, cursor);
    if (used == 0) break;
    i += used;
  }
  return i;
}

#else

bool simd_fold_supported() {
  return false;
}

std::int32_t fold_blocks_avx512(const std::uint8_t*, std::int32_t i, std::int32_t, const SimdFoldTables&,
                                CharacterCursor&) {
  return i;
}

#endif

}  // namespace vigil::text::detail
