// The vector steps of fold (fold_simd.cc: the character pass; word_simd.cc: the word pass)
// against the scalar loops: the folded text and both offset maps must be identical for every
// input, with each vector step alone and with both.

#include "common/text/fold_simd.h"

#include <gtest/gtest.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/text.h"
#include "tests/support/test_texts.h"

namespace vigil::text {
namespace {

using vigil::testing::escaped;
using vigil::testing::kSanitized;

#define SKIP_WITHOUT_SIMD()                                                                          \
  if (!detail::simd_fold_supported()) {                                                              \
    GTEST_SKIP() << "this CPU lacks AVX-512 F/BW/VBMI/VBMI2 or BMI2: fold has only its scalar path"; \
  }

// Which vector steps a fold uses.
struct Steps {
  bool characters;
  bool words;
};

// Folds `input` with only the scalar loops and with `steps`; returns an empty string when
// identical, else what differs.
std::string difference(std::string_view input, Steps steps) {
  Folded scalar, simd;
  detail::fold(input, scalar, false, false);
  detail::fold(input, simd, steps.characters, steps.words);
  if (scalar.text == simd.text && scalar.origin == simd.origin && scalar.ends == simd.ends) return {};
  std::ostringstream out;
  out << "input \"" << escaped(input) << "\"\n  scalar \"" << escaped(scalar.text) << "\"\n  simd   \""
      << escaped(simd.text) << "\"  (vector steps:" << (steps.characters ? " characters" : "")
      << (steps.words ? " words" : "") << ")\n";
  const std::size_t n = std::min(scalar.text.size(), simd.text.size());
  for (std::size_t k = 0; k < n; ++k) {
    if (scalar.origin[k] != simd.origin[k] || scalar.origin_end(k) != simd.origin_end(k)) {
      out << "  first offset difference at folded byte " << k << ": scalar [" << scalar.origin[k] << ", "
          << scalar.origin_end(k) << ") simd [" << simd.origin[k] << ", " << simd.origin_end(k) << ")\n";
      break;
    }
  }
  if (scalar.ends.size() != simd.ends.size()) {
    out << "  " << scalar.ends.size() << " and " << simd.ends.size() << " kept ends\n";
  }
  if (scalar.origin.size() != simd.origin.size()) {
    out << "  offset map sizes " << scalar.origin.size() << " and " << simd.origin.size() << "\n";
  }
  return out.str();
}

// Compares many inputs with both vector steps and, every `each_step_every` inputs (0: never),
// with each step alone (the unit test's time limit is shared by every text test); stops at
// the first few differences so a broken step stays readable.
class Comparer {
 public:
  explicit Comparer(std::size_t each_step_every = 1) : each_step_every_(each_step_every) {}
  void operator()(std::string_view input) {
    const bool each_step = each_step_every_ != 0 && compared_ % each_step_every_ == 0;
    ++compared_;
    if (failures_ >= 5) return;
    std::string d = difference(input, {true, true});
    if (d.empty() && each_step) d = difference(input, {false, true});
    if (d.empty() && each_step) d = difference(input, {true, false});
    if (!d.empty()) {
      ++failures_;
      ADD_FAILURE() << d;
    }
  }
  std::size_t compared() const { return compared_; }

 private:
  std::size_t each_step_every_;
  std::size_t compared_ = 0;
  std::size_t failures_ = 0;
};

void append_utf8(std::string& s, std::uint32_t c) {
  if (c < 0x80) {
    s.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    s.push_back(static_cast<char>(0xc0 | (c >> 6)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    s.push_back(static_cast<char>(0xe0 | (c >> 12)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    s.push_back(static_cast<char>(0xf0 | (c >> 18)));
    s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

// Post-sized texts of the benchmark corpus's sentences, all kinds mixed.
std::vector<std::string> corpus_texts(std::size_t count) {
  const std::vector<std::string_view> sentences = vigil::testing::corpus_sentences();
  std::mt19937_64 rng(42);
  std::vector<std::string> texts;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t target = std::uniform_int_distribution<std::size_t>(200, 1700)(rng);
    std::string text;
    while (text.size() < target) text += sentences[rng() % sentences.size()];
    texts.push_back(std::move(text));
  }
  return texts;
}

TEST(FoldSimd, CorpusTextsNeedNoScalarBlock) {
  SKIP_WITHOUT_SIMD();
  // The point of the vector step: benchmark-corpus text never falls back to the scalar loop.
  Folded warm;
  fold("warm up", warm);
  const detail::SimdFoldTables* tables = detail::simd_fold_tables();
  ASSERT_NE(tables, nullptr);
  for (const std::string& text : corpus_texts(200)) {
    std::vector<char> out(2 * text.size() + 128);
    std::vector<std::uint32_t> origin(out.size());
    std::vector<Folded::End> ends;
    detail::CharacterCursor cursor{out.data(), origin.data(), &ends, 0, 0, false, 0, 0, 0};
    const auto length = static_cast<std::int32_t>(text.size());
    EXPECT_EQ(
        detail::fold_blocks_avx512(reinterpret_cast<const std::uint8_t*>(text.data()), 0, length, *tables, cursor),
        length)
        << escaped(text);
  }
}

// The NFC inert check's AVX-512 form (whole text, the last block with masked loads) against
// its SSE2 form, on valid UTF-8 of every length up to 300 bytes: corpus text, and text with
// characters NFC changes or that the check must look up one by one.
TEST(NfcSimd, InertCheckSameAsSse2) {
  SKIP_WITHOUT_SIMD();
  const std::vector<std::string_view> pieces = {
      "a", " ", "ư", "ệ", "Đ", "🔥", "“", "…", "❤", "e\xcc\x81", "\xe2\x84\xab", "\xe2\x80\x80", "\xe1\xbd\xb1"};
  std::mt19937_64 rng(5);
  std::size_t inert = 0, not_inert = 0;
  auto compare = [&](std::string_view text) {
    const bool simd = detail::obviously_nfc(text, true);
    EXPECT_EQ(simd, detail::obviously_nfc(text, false)) << escaped(text);
    ++(simd ? inert : not_inert);
  };
  for (const std::string& text : corpus_texts(20)) {
    for (std::size_t n = 0; n <= 300 && n <= text.size(); ++n) {
      if (n < text.size() && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) continue;
      compare(std::string_view(text).substr(0, n));
    }
  }
  for (int k = 0; k < 20000; ++k) {
    std::string text;
    const std::size_t target = rng() % 300;
    // Mostly inert pieces, so that a changing one lands anywhere in a long inert run.
    while (text.size() < target) text += pieces[rng() % 8 == 0 ? rng() % pieces.size() : rng() % 5];
    compare(text);
  }
  EXPECT_GT(inert, 1000u);
  EXPECT_GT(not_inert, 1000u);
  // Every code point, between ASCII letters and after a Vietnamese letter: the AVX-512 form's
  // byte tables must not let through one character the SSE2 form checks.
  std::size_t code_points = 0;
  for (UChar32 c = 0x80; c <= 0x10ffff; ++c) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    std::string text = "a";
    icu::UnicodeString(c).toUTF8String(text);
    text += "b ệ";
    icu::UnicodeString(c).toUTF8String(text);
    const bool simd = detail::obviously_nfc(text, true);
    if (simd != detail::obviously_nfc(text, false)) ADD_FAILURE() << "U+" << std::hex << c;
    ++code_points;
  }
  EXPECT_GT(code_points, 1000000u);
}

TEST(FoldSimd, SameAsScalarOnCorpusAndLabelledTexts) {
  SKIP_WITHOUT_SIMD();
  Comparer compare(/*each_step_every=*/3);
  for (const std::string& text : corpus_texts(kSanitized ? 2000 : 20000)) {
    compare(text);
    // Upper case and every shorter tail, so blocks split the text at other places.
    for (std::size_t cut = 1; cut < 70 && cut < text.size(); cut += 7) compare(std::string_view(text).substr(cut));
  }
  // The hand-written labelled posts and the sample stream, whole JSON lines as raw text.
  const std::vector<std::string> lines = vigil::testing::labelled_and_sample_lines();
  for (const std::string& line : lines) compare(line);
  EXPECT_GT(lines.size(), 1000u);
  std::cout << "[          ] " << compare.compared() << " corpus and labelled texts compared\n";
}

TEST(FoldSimd, SameAsScalarForEveryCodePointAroundBlockEnds) {
  SKIP_WITHOUT_SIMD();
  // Each code point U+0000..U+1FFFF (surrogates too, as the ill-formed bytes ED A0..BF xx)
  // starting at every offset from 8 before to 4 after the end of the first 64-byte block,
  // behind four kinds of text and followed by Vietnamese letters, so that it ends a block,
  // crosses into the next one or starts it, after a letter, a space run or an emoji.
  const std::string fillers[] = {
      std::string(80, 'a'),
      "ab cd  ef\tgh ij kl mn op qr st uv wx yz ab cd ef gh ij kl mn op qr st uv wx yz ab cd   ",
      "tiếng việt có dấu đẹp lắm ạ ơi được chưa nhé tiếng việt có dấu đẹp lắm ạ ơi được chưa nhé",
      "xin chào 😍 bạn \xe2\x80\x8b nhé  🔥🔥 ok   đi  😍😍 về   ạ nhé 🔥 xin chào 😍 bạn ơi nhé nhé nhé",
  };
  const std::string tail = " ạ đấy Ở ĐÂY \xcc\x81 ok";
  Comparer compare(/*each_step_every=*/0);
  std::string text;
  // Under the sanitizers (5x slower) the offsets next to the block end only, so that unit.text
  // stays well inside its 120 s ctest limit on a loaded CI machine.
  const int first_offset = kSanitized ? 62 : 56;
  const int last_offset = kSanitized ? 66 : 68;
  for (std::uint32_t c = 0; c < 0x20000; ++c) {
    for (int offset = first_offset; offset <= last_offset; ++offset) {
      const std::string& filler = fillers[(c + static_cast<std::uint32_t>(offset)) % std::size(fillers)];
      text.assign(filler, 0, static_cast<std::size_t>(offset));
      append_utf8(text, c);
      text += tail;
      compare(text);
    }
  }
  std::cout << "[          ] " << compare.compared() << " code point placements compared\n";
}

TEST(FoldSimd, SameAsScalarOnRandomVietnameseLikeText) {
  SKIP_WITHOUT_SIMD();
  // Pieces weighted towards what posts are made of, plus everything the vector step must
  // refuse: marks, other scripts, multi-byte folds, ill-formed and cut-off sequences.
  // clang-format off
  const std::vector<std::string_view> common = {
      "a", "b", "k", "o", "n", "g", "h", "t", "A", "Z", "D", "0", "1", "4", "@", "$", ".", ",", "-", "?", "(", ")",
      " ", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1f", std::string_view("\0", 1), "\x7f",
      "à", "á", "ả", "ã", "ạ", "ă", "ắ", "ằ", "ẳ", "ẵ", "ặ", "â", "ấ", "ầ", "ẩ", "ẫ", "ậ", "đ", "Đ", "è", "é",
      "ẻ", "ẽ", "ẹ", "ê", "ế", "ề", "ể", "ễ", "ệ", "ì", "í", "ỉ", "ĩ", "ị", "ò", "ó", "ỏ", "õ", "ọ", "ô", "ố",
      "ồ", "ổ", "ỗ", "ộ", "ơ", "ớ", "ờ", "ở", "ỡ", "ợ", "ù", "ú", "ủ", "ũ", "ụ", "ư", "ứ", "ừ", "ử", "ữ", "ự",
      "ỳ", "ý", "ỷ", "ỹ", "ỵ", "Ă", "Ấ", "Ệ", "Ơ", "Ự", "Ỹ", "ß", "æ", "ø", "ł", "ǆ", "ǅ",
      "😍", "🔥", "👍", "👍🏻", "🇻🇳", "❤️", "✅", "⭐", "☎️", "⚠", "→", "–",
      "\xef\xb8\x8f", "\xe2\x80\x8b", "\xe2\x80\x8d", "\xe2\x81\xa0",   // FE0F, ZWSP, ZWJ, word joiner
      "\xc2\xa0", "\xe2\x80\x83", "\xe2\x80\xa8", "\xc2\x85",               // NBSP, em space, line sep., NEL
  };
  const std::vector<std::string_view> rare = {
      "\xe3\x80\x80", "\xc2\xad", "\xc2\x80",                                 // ideographic space, SHY, C1
      "\xcc\x81", "\xcc\x83", "\xcc\xa3",                                      // combining marks
      "\xe2\x80\x9c", "\xe2\x80\x94", "\xe2\x80\xa6", "\xef\xbb\xbf",       // quote, dash, ellipsis, BOM
      "привет", "日本", "한", "ไทย", "\xef\xbc\xa1", "\xe2\x84\xaa", "\xe1\xb8\x80", "\xe1\xbc\x80",
      "\x80", "\xbf", "\xc3", "\xe1\xba", "\xe1", "\xf0\x9f\x98", "\xf0\x9f", "\xc0\xaf", "\xed\xa0\x80",
      "\xf5", "\xff", "\xf4\x90\x80\x80", "\xe0\x80\x80",                  // ill-formed and cut off
  };
  // clang-format on
  std::mt19937_64 rng(7);
  Comparer compare(/*each_step_every=*/4);
  std::string text;
  const std::size_t count = kSanitized ? 200000 : 3000000;
  for (std::size_t k = 0; k < count; ++k) {
    text.clear();
    const std::size_t target = rng() % 4 == 0 ? rng() % 300 : rng() % 100;
    const int rare_share = static_cast<int>(rng() % 4);  // 0: none, else 1 in 8, 16, 24 pieces
    while (text.size() < target) {
      const bool use_rare = rare_share != 0 && rng() % (std::uint64_t{8} * static_cast<std::uint64_t>(rare_share)) == 0;
      text += use_rare ? rare[rng() % rare.size()] : common[rng() % common.size()];
    }
    compare(text);
  }
  std::cout << "[          ] " << compare.compared() << " random texts compared\n";
}

// Texts that hit every word rule, and words that nearly do.
// clang-format off
const std::vector<std::string_view> kRuleWords = {
    // spelled-out letters with each separator, too few letters, dotted neighbours, digits
    "d.a.t.a", "d a t a", "d-a-t-a", "d_a_t_a", "d*a*t*a", "d.a.t", "d a t", "d-a", "d.a", "o a b", "a b c d e",
    "d.ữ l.i.ệ.u", "t.h.u m.u.a d.ữ", "d.ữ", "l.i.ệ.u", "1.2.3", "a.b.3", "D.A.T.A", "d.a-t.a", "x.y z.w",
    "d..a..t", "d. a. t. a", "đ.a.t.a", "d.4.t.4", "k.o", "k.a.b",
    // leetspeak and what keeps its digits
    "b@n", "d4t4", "kh4ch", "$im", "r3", "@kho", "4g", "50k", "2024", "3tr", "1tr5", "12usdt", "5kg", "20gb",
    "0912.345.678", "ab90", "a1", "1a", "l0l", "$$$", "@@@", "c0ng", "t3l3", "h0ng", "k0", "4e",
    // runs of equal bytes
    "baaaan", "aaa", "cccd", "www", "ooo", "noooo", "000", "1111", "hoooong", "kooo", "đđđ", "ưưư", "aa", "bb",
    // chat spellings and near misses
    "ko", "hok", "kh", "hong", "dc", "j", "sdt", "stk", "tk", "ck", "zl", "fb", "tele", "mk", "vs", "ng", "ae",
    "nt", "dt", "sp", "sl", "inb", "nhiu", "dk", "dky", "r", "k", "kho", "khon", "to", "co", "de", "so", "hot",
    "tel", "telex", "nhi", "dkyy", "ng1", "sdtt", "ko@", "$k", "k$",
    // the lone k
    "150 k", "1.500 k", "k-pop", "được k?", "(k)", "k,", "k.", "12k", "k12", "k k k", "9 k", "a 9 k", "9k k",
    "1.2.3 k", "a.b.3 k", "x k", "k)", ":k;", "k!",
};
// clang-format on

TEST(FoldWordsSimd, EveryRuleAtEveryPlaceAroundBlockEnds) {
  SKIP_WITHOUT_SIMD();
  // Each rule word starting from 8 before to 8 after 64 bytes of text (a 64-byte step of the
  // word scan starts at the text or just after the last word a rule looked at), behind plain
  // words, Vietnamese letters or marked words, and followed by each kind of neighbour.
  const std::string fillers[] = {
      "xin chao ban nhe hom nay troi dep qua di choi thoi nao xin chao ban nhe hom nay troi dep qua",
      "tiếng việt có dấu đẹp lắm ạ ơi được chưa nhé tiếng việt có dấu đẹp lắm ạ ơi được chưa nhé",
      "ko biet d.a.t.a o dau 150 k nhe b@n aaa ok 2024 xin chao ban nhe hom nay troi dep qua di",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r",
      "k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k k",
      "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4",
  };
  const std::string_view tails[] = {"", " ", ".", " x", " x y", ".x", "-x.y", "x", "aa", " k", "?", " 9", ", ok"};
  Comparer compare(/*each_step_every=*/kSanitized ? 4 : 1);
  std::string text;
  for (const std::string_view word : kRuleWords) {
    for (const std::string& filler : fillers) {
      for (std::size_t offset = 0; offset <= 72; ++offset) {
        if (offset > 4 && offset < 56) continue;
        // The sanitizer builds are ~20x slower: fewer places there.
        if (kSanitized && (offset > 2 && (offset < 62 || offset > 66))) continue;
        for (const std::string_view tail : tails) {
          for (const std::string_view joint : {" ", ".", "", "  ,"}) {
            if (kSanitized && (joint.empty() || joint.size() > 2)) continue;
            text.assign(filler, 0, offset);
            text += joint;
            text += word;
            text += tail;
            compare(text);
            // Twice, so that the second one may start in the next block.
            text += word;
            compare(text);
          }
        }
      }
    }
  }
  std::cout << "[          ] " << compare.compared() << " rule words around block ends compared\n";
}

TEST(FoldWordsSimd, SameAsScalarOnRandomRuleText) {
  SKIP_WITHOUT_SIMD();
  // Pieces weighted towards the word rules: single letters between . - _ * and spaces, leet
  // characters, runs, chat spellings, lone k next to numbers, Vietnamese letters and a few
  // bytes that fold to nothing, to other letters or to none of these.
  // clang-format off
  const std::vector<std::string_view> pieces = {
      "a", "b", "d", "t", "k", "k", "k", "o", "h", "n", "g", "j", "r", "s", "c", "z", "e", "i", "y", "u", "x",
      "A", "K", "D", "Đ", "đ", "ữ", "ệ", "ô", "ơ", "ư", "á",
      ".", ".", ".", "-", "-", "_", "*", " ", " ", " ", " ", "  ", "\t", "\n", ",", "!", "?", ";", ":", "(", ")",
      "/", "%", "+", "'", "\"",
      "0", "1", "3", "4", "@", "$", "2", "5", "9", "00", "000", "150", "1.500", "2024",
      "aaa", "aa", "ooo", "kkk", "đđđ", "111", "$$$",
      "ko", "hok", "kh", "hong", "dc", "sdt", "stk", "tk", "ck", "zl", "fb", "tele", "mk", "vs", "ng", "ae", "nt",
      "dt", "sp", "sl", "inb", "nhiu", "dk", "dky", "co", "to", "hot", "khong", "data", "tr", "usdt", "gb",
      "😍", "\xe2\x80\x8b", "\xcc\x81", "ß", "æ", "привет",
  };
  // clang-format on
  std::mt19937_64 rng(11);
  Comparer compare(/*each_step_every=*/2);
  std::string text;
  const std::size_t count = kSanitized ? 75000 : 1500000;
  for (std::size_t k = 0; k < count; ++k) {
    text.clear();
    const std::size_t target = rng() % 4 == 0 ? rng() % 400 : rng() % 90;
    // Some texts draw from a few pieces only, so that rules pile up ("k.k.k", "1 k 1 k").
    const std::size_t palette = rng() % 3 == 0 ? 4 + rng() % 8 : pieces.size();
    const std::size_t first = rng() % (pieces.size() - palette + 1);
    while (text.size() < target) text += pieces[first + rng() % palette];
    compare(text);
  }
  std::cout << "[          ] " << compare.compared() << " random rule texts compared\n";
}

}  // namespace
}  // namespace vigil::text
