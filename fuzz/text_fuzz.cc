// Folding and extraction over arbitrary text: the offset map stays consistent (one entry per
// folded byte plus the end, non-decreasing, inside the input) and extraction never crashes.
// On a CPU with AVX-512 VBMI2, fold's vector steps (character pass, word pass) give exactly
// what the scalar loops give, each alone and both together, on the raw input too (ill-formed
// UTF-8 included), and extraction's AVX-512 candidate pass gives exactly the SSE2 pass's lists.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/core/json_writer.h"
#include "common/extract/extract.h"
#include "common/extract/scan.h"
#include "common/text/fold_simd.h"
#include "common/text/text.h"

namespace {

// The vector steps (when the CPU has them) against the scalar loops: text, origins and ends.
void same_every_way(std::string_view text) {
  if (!vigil::text::detail::simd_fold_supported()) return;
  vigil::text::Folded scalar, simd;
  vigil::text::detail::fold(text, scalar, false, false);
  for (const auto& [characters, words] : {std::pair{true, true}, std::pair{false, true}, std::pair{true, false}}) {
    vigil::text::detail::fold(text, simd, characters, words);
    if (scalar.text != simd.text || scalar.origin != simd.origin || scalar.ends != simd.ends) {
      __builtin_trap();
    }
  }
}

// The AVX-512 candidate pass (when the CPU has it) against the SSE2 pass.
void same_candidates(std::string_view text) {
  if (!vigil::extract::detail::simd_scan_supported()) return;
  vigil::extract::detail::Candidates sse2, simd;
  vigil::extract::detail::scan(text, sse2, false);
  vigil::extract::detail::scan(text, simd, true);
  if (sse2.url_marks != simd.url_marks || sse2.ats != simd.ats || sse2.digit_starts != simd.digit_starts ||
      sse2.phone_starts != simd.phone_starts || sse2.obfuscated != simd.obfuscated) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  same_every_way(input);
  same_candidates(input);
  if (!vigil::is_valid_utf8(input)) return 0;  // adapters only pass valid UTF-8 on
  const std::string text = vigil::text::nfc(input);
  vigil::text::Folded folded;
  vigil::text::fold(text, folded);
  if (folded.origin.size() != folded.text.size() + 1 || folded.origin.back() != text.size()) __builtin_trap();
  for (std::size_t i = 0; i < folded.origin.size(); ++i) {
    if (folded.origin[i] > text.size()) __builtin_trap();
    if (i > 0 && folded.origin[i] < folded.origin[i - 1]) __builtin_trap();
    if (i < folded.text.size() && (folded.origin_end(i) > text.size() || folded.origin[i] >= folded.origin_end(i))) {
      __builtin_trap();
    }
  }
  // Ends are kept only where they differ from the next byte's origin, in byte order.
  for (std::size_t i = 0; i < folded.ends.size(); ++i) {
    const auto& e = folded.ends[i];
    if (e.byte >= folded.text.size() || e.end == folded.origin[e.byte + 1]) __builtin_trap();
    if (i > 0 && e.byte <= folded.ends[i - 1].byte) __builtin_trap();
  }
  vigil::extract::EntityList entities;
  vigil::extract::extract_all(text, folded, 1711929600000, entities);
  for (const auto& e : entities) {
    if (e.end > text.size() || e.start > e.end) __builtin_trap();
  }
  return 0;
}
