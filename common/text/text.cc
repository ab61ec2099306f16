#include "common/text/text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

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

void append_utf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(buf, len, U8_MAX_LENGTH, c, error);
  if (!error) out.append(buf, static_cast<std::size_t>(len));
}

}  // namespace

std::string nfc(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  const auto input = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  std::string out;
  if (U_FAILURE(status)) {
    input.toUTF8String(out);
    return out;
  }
  const icu::UnicodeString normalized = normalizer->normalize(input, status);
  (U_SUCCESS(status) ? normalized : input).toUTF8String(out);
  return out;
}

void fold(std::string_view utf8, Folded& out) {
  out.text.clear();
  out.origin.clear();
  out.origin_end.clear();
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto length = static_cast<int32_t>(utf8.size());
  bool pending_space = false;
  std::uint32_t space_origin = 0;
  std::uint32_t space_end = 0;
  std::size_t last_begin = 0;
  for (int32_t i = 0; i < length;) {
    const auto start = static_cast<std::uint32_t>(i);
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    const auto end = static_cast<std::uint32_t>(i);
    if (c < 0 || dropped(c)) continue;
    if (u_charType(c) == U_NON_SPACING_MARK) {
      // A combining mark belongs to the letter before it: drop it, but let that letter's
      // source span cover it so quotes keep the whole grapheme.
      for (std::size_t k = last_begin; k < out.origin_end.size(); ++k) out.origin_end[k] = end;
      continue;
    }
    if (u_isUWhiteSpace(c)) {
      if (!pending_space) space_origin = start;
      space_end = end;
      pending_space = !out.text.empty();
      continue;
    }
    if (pending_space) {
      out.text.push_back(' ');
      out.origin.push_back(space_origin);
      out.origin_end.push_back(space_end);
      pending_space = false;
    }
    const std::size_t before = out.text.size();
    last_begin = before;
    append_utf8(out.text, base_letter(c));
    for (std::size_t k = before; k < out.text.size(); ++k) {
      out.origin.push_back(start);
      out.origin_end.push_back(end);
    }
  }
  out.origin.push_back(static_cast<std::uint32_t>(utf8.size()));
  out.origin_end.push_back(static_cast<std::uint32_t>(utf8.size()));
}

std::size_t code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace vigil::text
