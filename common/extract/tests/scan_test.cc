// The AVX-512 candidate pass (scan_simd.cc) against the SSE2/scalar pass (extract.cc): the four
// position lists and the obfuscation flag must be identical for every input. Each text is
// copied so that it ends right before a page the process cannot read: a vector load past the
// end of the text crashes the test.

#include "common/extract/scan.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/test_texts.h"

namespace vigil::extract {
namespace {

using vigil::testing::corpus_sentences;
using vigil::testing::escaped;
using vigil::testing::kSanitized;

#define SKIP_WITHOUT_SIMD()                                                                      \
  if (!detail::simd_scan_supported()) {                                                          \
    GTEST_SKIP() << "this CPU lacks AVX-512 F/BW/VBMI or BMI2: the scan has only its SSE2 pass"; \
  }

std::string positions(const detail::Positions& v) {
  std::ostringstream out;
  out << "[";
  for (std::size_t k = 0; k < v.size(); ++k) out << (k > 0 ? " " : "") << v[k];
  out << "]";
  return out.str();
}

// Memory for one text, followed by a page that cannot be read.
class GuardedBuffer {
 public:
  static constexpr std::size_t kCapacity = 1 << 20;
  GuardedBuffer() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, kCapacity + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + kCapacity, page_, PROT_NONE) != 0) std::abort();
  }
  ~GuardedBuffer() { munmap(base_, kCapacity + page_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  // `text` copied to end at the guard page.
  std::string_view place(std::string_view text) {
    if (text.size() > kCapacity) std::abort();
    char* at = base_ + kCapacity - text.size();
    if (!text.empty()) std::memcpy(at, text.data(), text.size());
    return {at, text.size()};
  }

 private:
  char* base_ = nullptr;
  std::size_t page_ = 0;
};

// Runs both passes on each text; stops reporting after a few differences.
class Comparer {
 public:
  void operator()(std::string_view input) {
    ++compared_;
    if (failures_ >= 5) return;
    const std::string_view text = buffer_.place(input);
    detail::scan(text, sse2_, false);
    detail::scan(text, simd_, true);
    obfuscated_ += sse2_.obfuscated;
    candidates_ += sse2_.url_marks.size() + sse2_.ats.size() + sse2_.digit_starts.size() + sse2_.phone_starts.size();
    std::ostringstream d;
    const auto compare = [&](const char* what, const detail::Positions& a, const detail::Positions& b) {
      if (a != b) d << "  " << what << ": sse2 " << positions(a) << " avx512 " << positions(b) << "\n";
    };
    compare("url_marks", sse2_.url_marks, simd_.url_marks);
    compare("ats", sse2_.ats, simd_.ats);
    compare("digit_starts", sse2_.digit_starts, simd_.digit_starts);
    compare("phone_starts", sse2_.phone_starts, simd_.phone_starts);
    if (sse2_.obfuscated != simd_.obfuscated) {
      d << "  obfuscated: sse2 " << sse2_.obfuscated << " avx512 " << simd_.obfuscated << "\n";
    }
    if (!d.str().empty()) {
      ++failures_;
      ADD_FAILURE() << "text (" << input.size() << " bytes) \"" << escaped(input) << "\"\n" << d.str();
    }
  }
  std::size_t compared() const { return compared_; }
  std::size_t obfuscated() const { return obfuscated_; }
  std::size_t candidates() const { return candidates_; }

 private:
  GuardedBuffer buffer_;
  detail::Candidates sse2_, simd_;
  std::size_t compared_ = 0, failures_ = 0, obfuscated_ = 0, candidates_ = 0;
};

TEST(ScanSimd, SameAsSse2OnCorpusAndLabelledTexts) {
  SKIP_WITHOUT_SIMD();
  Comparer compare;
  const std::vector<std::string_view> sentences = corpus_sentences();
  // Each sentence, each pair, and every tail of posts made of them as the corpus makes them.
  for (const auto a : sentences) {
    compare(a);
    for (const auto b : sentences) compare(std::string(a) + std::string(b));
  }
  std::mt19937_64 rng(42);
  for (int k = 0; k < (kSanitized ? 100 : 1000); ++k) {
    const std::size_t target = std::uniform_int_distribution<std::size_t>(200, 1700)(rng);
    std::string text;
    while (text.size() < target) text += sentences[rng() % sentences.size()];
    for (std::size_t cut = 0; cut < 130 && cut < text.size(); ++cut) compare(std::string_view(text).substr(cut));
  }
  // The hand-written labelled posts and the sample stream, whole JSON lines as raw text.
  const std::vector<std::string> lines = vigil::testing::labelled_and_sample_lines();
  for (const std::string& line : lines) compare(line);
  EXPECT_GT(lines.size(), 1000u);
  // The texts exercise the lists and the flag both ways.
  EXPECT_GT(compare.obfuscated(), 1000u);
  EXPECT_LT(compare.obfuscated(), compare.compared() / 2);
  EXPECT_GT(compare.candidates(), 10 * compare.compared());
  std::cout << "[          ] " << compare.compared() << " corpus and labelled texts compared, " << compare.obfuscated()
            << " obfuscated\n";
}

TEST(ScanSimd, SameAsSse2ForEveryCandidateAtEveryOffset) {
  SKIP_WITHOUT_SIMD();
  // Every byte and pattern that makes a candidate (or nearly does), starting at each offset
  // 0..130 (across the ends of the first two 64-byte blocks), after and before each kind of
  // text, and as the very end of the text.
  // clang-format off
  const std::vector<std::string_view> pieces = {
      "0", "8", "5", "+", "O", "o", ".", ":", "@", "[", "(", "{", "]", ")", "}", "/", "d", "D", "x", "X", "h",
      "H", "t", "p", " ", "ố", "đ", "\xff", std::string_view("\0", 1),
      "09", "80", "+8", "+0", "++0", "+84", "O9", "o1", "oO1", "O+1", "a+0", "a0", "ố0", "ố+1", "\xe1\xbb", "x.y",
      ".a", ":/", ". ", ".,", "a@b", "[.]", "(.)", "{.}", "[dot]", "(DoT)", "{dot}", "[:]", "[/]", "(:)", "[d",
      "a dot b", "1 DOT 2", " dot ", "a dot ", " dot b", "a dotb", "hxxp", "HXXPS", "hxx", "hx", "h xxp",
  };
  const std::vector<std::string> fillers = {
      std::string(140, 'a'), std::string(140, ' '), std::string(140, '0'), std::string(140, '+'),
      std::string(140, 'o'), std::string(140, '.'), "ốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđốđố",
      "a b.c:d@e f+g(h)i[j]k{l}m0n o1p 2 3+4 O5 hxx dot x a b.c:d@e f+g(h)i[j]k{l}m0n o1p 2 3+4 O5 hxx dot x ab",
  };
  // clang-format on
  Comparer compare;
  std::string text;
  for (const std::string& before : fillers) {
    for (const std::string& after : fillers) {
      for (const auto piece : pieces) {
        for (std::size_t offset = 0; offset <= 130; ++offset) {
          // Under the sanitizers (10x slower) the offsets next to the block ends only.
          if (kSanitized && ((offset > 8 && offset < 56) || (offset > 72 && offset < 120))) continue;
          for (const std::size_t tail : {0, 1, 2, 5, 64}) {
            text.assign(before, 0, offset);
            text += piece;
            text.append(after, 0, tail);
            compare(text);
          }
        }
      }
    }
  }
  std::cout << "[          ] " << compare.compared() << " placements compared\n";
}

TEST(ScanSimd, SameAsSse2OnRandomTexts) {
  SKIP_WITHOUT_SIMD();
  // Texts made of the bytes the pass looks at, and the patterns it looks for; obfuscations
  // rare enough that most texts have none (once one is found, later ones do not matter).
  // clang-format off
  const std::vector<std::string_view> common = {
      "0", "1", "8", "9", "+", "O", "o", ".", ":", "@", "[", "(", "{", "]", ")", "}", "/", "d", "D", "x", "X",
      "h", "H", "t", "T", "p", "a", "z", " ", " ", " ", ",", "-", "\n", "ố", "đ", "Đ", "ạ",
  };
  const std::vector<std::string_view> rare = {
      "[.]", "(.)", "{.}", "[dot]", "(dot)", "{DOT}", "[:]", "[/]", " dot ", "hxxp", "HXXP", "\xff", "\x80", "\xe1",
      std::string_view("\0", 1), "+84", "O9",
  };
  // clang-format on
  std::mt19937_64 rng(11);
  Comparer compare;
  std::string text;
  const std::size_t count = kSanitized ? 100000 : 1000000;
  for (std::size_t k = 0; k < count; ++k) {
    text.clear();
    const std::size_t target = rng() % 4 == 0 ? rng() % 400 : rng() % 140;
    const std::uint64_t rare_every = 16 + rng() % 256;
    while (text.size() < target) {
      text += rng() % rare_every == 0 ? rare[rng() % rare.size()] : common[rng() % common.size()];
    }
    compare(text);
  }
  EXPECT_GT(compare.obfuscated(), count / 20);
  EXPECT_LT(compare.obfuscated(), count / 2);
  std::cout << "[          ] " << compare.compared() << " random texts compared, " << compare.obfuscated()
            << " obfuscated\n";
}

}  // namespace
}  // namespace vigil::extract
