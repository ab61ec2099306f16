#pragma once

// Inputs and helpers shared by the unit tests that compare a vector (SIMD) path with its
// scalar reference on many texts (common/text/tests/fold_simd_test.cc,
// common/extract/tests/scan_test.cc). Header-only: those tests link no test-support library.
// Reads files relative to VIGIL_SOURCE_DIR, which vigil_library() defines for every test.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/corpus/sentences.h"

namespace vigil::testing {

// Under ASan the comparisons run on fewer inputs, to stay inside the test time limit.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// Printable ASCII as it is, every other byte as \xNN, for failure messages.
inline std::string escaped(std::string_view s) {
  std::ostringstream out;
  for (const unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out << c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
  return out.str();
}

// The benchmark corpus's sentences (bench/corpus/sentences.h: header-only, as bench/ is not
// built with the sanitizer presets), all kinds: neutral, offers, lures.
inline std::vector<std::string_view> corpus_sentences() {
  std::vector<std::string_view> out;
  for (const auto s : vigil::bench::kNeutral) out.push_back(s);
  for (const auto s : vigil::bench::kOffers) out.push_back(s);
  for (const auto s : vigil::bench::kLures) out.push_back(s);
  return out;
}

// The hand-written labelled posts and the sample stream, whole JSON lines as raw text; empty
// when a file is missing (callers assert on the count).
inline std::vector<std::string> labelled_and_sample_lines() {
  std::vector<std::string> lines;
  for (const char* file :
       {"tests/data/labelled/tune.jsonl", "tests/data/labelled/held_out.jsonl", "tests/data/labelled/blind.jsonl",
        "tests/data/labelled/blind2.jsonl", "tests/data/labelled/blind3.jsonl", "tests/data/labelled/blind4.jsonl",
        "samples/sample-stream.jsonl"}) {
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/" + file, std::ios::binary);
    if (!in) return {};
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

}  // namespace vigil::testing
