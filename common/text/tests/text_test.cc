#include "common/text/text.h"

#include <gtest/gtest.h>

namespace vigil::text {
namespace {

std::string folded(std::string_view s) {
  Folded f;
  fold(s, f);
  return f.text;
}

TEST(Fold, RemovesVietnameseDiacriticsAndCase) {
  EXPECT_EQ(folded("Bán DATA khách hàng"), "ban data khach hang");
  EXPECT_EQ(folded("Đăng ký CĂN CƯỚC công dân"), "dang ky can cuoc cong dan");
  EXPECT_EQ(folded("Tài khoản của quý khách đang bị tạm khóa"), "tai khoan cua quy khach dang bi tam khoa");
}

TEST(Fold, DecomposedInputFoldsLikeComposed) {
  // "ế" written as e + U+0302 + U+0301.
  EXPECT_EQ(folded("nh\x65\xcc\x82\xcc\x81n"), folded("nhến"));
}

TEST(Fold, CollapsesWhitespaceAndDropsEmojiAndZeroWidth) {
  EXPECT_EQ(folded("  bán\t\n data\xe2\x80\x8b 🔥🔥 ngay  "), "ban data ngay");
}

TEST(Fold, OffsetsMapBackToOriginalText) {
  const std::string original = "Cần BÁN tệp khách hàng";
  Folded f;
  fold(original, f);
  const auto pos = f.text.find("tep khach");
  ASSERT_NE(pos, std::string::npos);
  const auto [b, e] = f.source_span(pos, pos + 9);
  EXPECT_EQ(original.substr(b, e - b), "tệp khách");
  ASSERT_EQ(f.origin.size(), f.text.size() + 1);
}

TEST(Nfc, ComposesDecomposedText) {
  EXPECT_EQ(nfc("nh\x65\xcc\x82\xcc\x81n"), "nhến");
  EXPECT_EQ(nfc("plain"), "plain");
  EXPECT_EQ(code_points("tệp"), 3u);
}

}  // namespace
}  // namespace vigil::text

namespace vigil::text {
namespace {

TEST(FoldWords, LeetspeakOnlyInWordsThatAreMostlyLetters) {
  EXPECT_EQ(folded("B@n d4t4 kh4ch h4ng, $im r3"), "ban data khach hang, sim re");
  EXPECT_EQ(folded("gói 4G 50k 2024 data 5g"), "goi 4g 50k 2024 data 5g");
  // Amounts with a unit are numbers, not leetspeak: "3tr" is not "etr".
  EXPECT_EQ(folded("3tr/1000 data, 1tr5/bộ, 12usdt, 10GB"), "3tr/1000 data, 1tr5/bo, 12usdt, 10gb");
  EXPECT_EQ(folded("4nh ơi"), "anh oi");
}

TEST(FoldWords, SpelledOutWordsAreJoined) {
  EXPECT_EQ(folded("bán d.a.t.a khách"), "ban data khach");
  EXPECT_EQ(folded("bán d a t a khách"), "ban data khach");
  EXPECT_EQ(folded("C-C-C-D giá rẻ"), "cccd gia re");
  EXPECT_EQ(folded("bán d.4.t.4"), "ban data");
  EXPECT_EQ(folded("v.v và a b"), "v.v va a b");  // too short to be a spelled-out word
  // Two dotted letters next to another dotted word: "d.ữ l.i.ệ.u"; alone they stay.
  EXPECT_EQ(folded("B.á.n d.ữ l.i.ệ.u c.h.ủ"), "ban du lieu chu");
  EXPECT_EQ(folded("T.h.u m.u.a d.ữ l.i.ệ.u khách"), "thu mua du lieu khach");
  EXPECT_EQ(folded("l.i.ệ.u d.ữ"), "lieu du");
  EXPECT_EQ(folded("v.v và t.p hà nội"), "v.v va t.p ha noi");
}

TEST(FoldWords, RepeatsCollapsedButDoublesKept) {
  EXPECT_EQ(folded("bánnnn dataaaa facebook"), "ban data facebook");
}

TEST(FoldWords, ChatSpellings) {
  EXPECT_EQ(folded("ko bán, dc k? sđt stk"), "khong ban, duoc khong? so dien thoai so tai khoan");
}

TEST(FoldWords, KIsKhongExceptAfterANumberOrInsideACode) {
  EXPECT_EQ(folded("vay k cần thẩm định, K thế chấp"), "vay khong can tham dinh, khong the chap");
  EXPECT_EQ(folded("đi được k."), "di duoc khong.");
  // After a number it is "nghìn"; next to other characters it is a letter.
  EXPECT_EQ(folded("áo 150 k thôi, 35 k/hộp, 1.500 k"), "ao 150 k thoi, 35 k/hop, 1.500 k");
  EXPECT_EQ(folded("vitamin-k k-pop 50k 12k"), "vitamin-k k-pop 50k 12k");
  EXPECT_EQ(folded("áo 150 k, k có size M"), "ao 150 k, khong co size m");
}

TEST(FoldWords, OffsetsStillQuoteTheOriginal) {
  const std::string original = "Cần b.á.n d4t4 kháchhhh, sđt";
  Folded f;
  fold(original, f);
  ASSERT_EQ(f.origin.size(), f.text.size() + 1);
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ban data", "b.á.n d4t4"}, {"khach", "kháchhhh"}, {"so dien thoai", "sđt"}};
  for (const auto& [needle, quote] : cases) {
    const auto pos = f.text.find(needle);
    ASSERT_NE(pos, std::string::npos) << needle << " in " << f.text;
    const auto [b, e] = f.source_span(pos, pos + needle.size());
    EXPECT_EQ(original.substr(b, e - b), quote);
  }
}

}  // namespace
}  // namespace vigil::text

namespace vigil::text {
namespace {

// Edges of the word pass: joins, runs and spellings interact, and spans still quote the input.
TEST(FoldWords, JoinsRunsAndSpellingsTogether) {
  EXPECT_EQ(folded("a.b c d e f"), "a.bcdef");  // a join too short to count does not hide the next one
  EXPECT_EQ(folded("s.d.t, n h i u"), "so dien thoai, nhieu");
  EXPECT_EQ(folded("1.2.3 k"), "123 k");  // a spelled-out number is a number before "k"
  EXPECT_EQ(folded("d4t4 4444 1000"), "data 4444 1000");
  EXPECT_EQ(folded("(k) k-pop k_"), "(khong) k-pop k_");
  EXPECT_EQ(folded("ck ck"), "chuyen khoan chuyen khoan");
  EXPECT_EQ(folded("k\xe2\x80\x8b thi"), "khong thi");  // zero-width space dropped before the k rule
  EXPECT_EQ(folded("\xe2\x84\xaa"), "khong");           // KELVIN SIGN folds to k (outside the tables)

  const std::string original = "koooo dcccc";
  Folded f;
  fold(original, f);
  EXPECT_EQ(f.text, "khong duoc");  // spellings apply after letter runs collapse
  EXPECT_EQ(f.source_span(0, 5), std::make_pair(0u, 5u));
  EXPECT_EQ(f.source_span(6, 10), std::make_pair(6u, 11u));
}

TEST(Fold, MarkAfterSpaceBelongsToTheLetterBefore) {
  const std::string original = "a \xcc\x81x";
  Folded f;
  fold(original, f);
  EXPECT_EQ(f.text, "a x");
  EXPECT_EQ(f.source_span(0, 1), std::make_pair(0u, 4u));
  EXPECT_EQ(f.source_span(1, 2), std::make_pair(1u, 2u));
  EXPECT_EQ(f.origin.back(), original.size());
}

// Ends are kept only where a byte's character does not end where the next byte's begins; each
// case below needs one, and the spans must still cover exactly the characters.
TEST(Fold, EachByteEndsWhereItsCharacterEnds) {
  auto spans = [](const std::string& original) {
    Folded f;
    fold(original, f);
    std::vector<std::string> out;
    for (std::size_t k = 0; k < f.text.size(); ++k) {
      const auto [b, e] = f.source_span(k, k + 1);
      out.push_back(original.substr(b, e - b));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(spans("a🔥b"), (V{"a", "b"}));        // dropped emoji between letters
  EXPECT_EQ(spans("ệ🔥 x"), (V{"ệ", " ", "x"}));  // the same inside a vector block
  EXPECT_EQ(spans("xin  \n  chào"), (V{"x", "i", "n", "  \n  ", "c", "h", "à", "o"}));
  EXPECT_EQ(spans("ko"), (V{"ko", "ko", "ko", "ko", "ko"}));  // "khong" from one span
  EXPECT_EQ(spans("d.a.t.a"), (V{"d", "a", "t", "a"}));       // separators removed
  EXPECT_EQ(spans("e\xcc\x81x"), (V{"e\xcc\x81", "x"}));      // a mark extends its letter
  EXPECT_EQ(spans("ab \xe2\x80\x8b"), (V{"a", "b"}));         // trailing space and zero-width
  // A long post: the vector step's blocks, with emoji inside and across block ends.
  std::string post, expected_tail;
  for (int k = 0; k < 40; ++k) post += "bán 🔥data ";
  const auto all = spans(post);
  EXPECT_EQ(all.size(), 40u * 9 - 1);
  for (std::size_t k = 0; k + 1 < all.size(); k += 9) {
    EXPECT_EQ((V(all.begin() + static_cast<std::ptrdiff_t>(k), all.begin() + static_cast<std::ptrdiff_t>(k) + 8)),
              (V{"b", "á", "n", " ", "d", "a", "t", "a"}))
        << "at folded byte " << k;
  }
}

TEST(Nfc, InertTextIsKeptAndOtherTextStillNormalised) {
  EXPECT_EQ(nfc("Bán data khách hàng 🔥 ok"), "Bán data khách hàng 🔥 ok");
  EXPECT_EQ(nfc("\xe1\xbb\x87\xcc\x81"), "\xe1\xbb\x87\xcc\x81");  // ệ + acute: nothing composes
  EXPECT_EQ(nfc("\xe2\x84\xab"), "\xc3\x85");                      // ANGSTROM SIGN -> Å
  EXPECT_EQ(nfc("\xcd\xb4"), "\xca\xb9");                          // a singleton decomposition
  std::string text = "kh\x61\xcc\x81\x63h";
  nfc_in_place(text);
  EXPECT_EQ(text, "khách");
}

// The inert check reads 64 bytes (AVX-512) or 16 bytes at a time: a character that NFC changes
// is found at every position of the first blocks and around their ends, between the
// Vietnamese letters and emoji the check lets through.
TEST(Nfc, CharactersThatChangeAreFoundAtEveryOffset) {
  const std::string filler = "Bán dữ liệu ạ 🔥 ok ";
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"e\xcc\x81", "\xc3\xa9"},         // e + combining acute -> é
      {"\xe2\x84\xab", "\xc3\x85"},      // ANGSTROM SIGN -> Å
      {"\xe2\x80\x80", "\xe2\x80\x82"},  // EN QUAD -> EN SPACE
      {"\xe1\xbd\xb1", "\xce\xac"},      // U+1F71, an E1 character outside U+1Exx -> U+03AC
  };
  for (const Case& c : cases) {
    std::string text;
    for (int k = 0; k < 8; ++k) text += filler;  // 8 x 26 bytes: three 64-byte blocks and a tail
    for (std::size_t at = 0; at <= text.size(); ++at) {
      if (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) continue;  // inside a character
      std::string input = text;
      input.insert(at, c.input);
      std::string expected = text;
      expected.insert(at, c.expected);
      EXPECT_EQ(nfc(input), expected) << "at byte " << at;
      // The same character last in a text of every length: the tail of the last block.
      const std::string head = text.substr(0, at);
      EXPECT_EQ(nfc(head + c.input), head + c.expected) << "last, after " << at << " bytes";
    }
  }
}

}  // namespace
}  // namespace vigil::text
