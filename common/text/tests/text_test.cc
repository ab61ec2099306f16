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
