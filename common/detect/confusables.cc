#include "common/detect/confusables.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>

namespace vigil::detect {
namespace {

struct CheckResultDeleter {
  void operator()(USpoofCheckResult* r) const { uspoof_closeCheckResult(r); }
};

Status icu_error(std::string_view what, UErrorCode code) {
  return internal_error(std::string(what) + ": " + u_errorName(code));
}

bool fits_int32(std::string_view s) {
  return s.size() <= static_cast<std::size_t>(INT32_MAX);
}

}  // namespace

void Confusables::CheckerDeleter::operator()(USpoofChecker* checker) const {
  uspoof_close(checker);
}

Confusables::~Confusables() = default;

Result<const Confusables*> Confusables::shared() {
  static const Result<std::unique_ptr<Confusables>> instance = []() -> Result<std::unique_ptr<Confusables>> {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<Confusables> c(new Confusables());
    c->checker_.reset(uspoof_open(&status));
    if (U_FAILURE(status) || !c->checker_) return icu_error("uspoof_open", status);
    // Latin alone, or Latin with Han/Kana/Hangul, passes; Latin with Cyrillic or Greek does not.
    uspoof_setRestrictionLevel(c->checker_.get(), USPOOF_HIGHLY_RESTRICTIVE);
    uspoof_setChecks(c->checker_.get(), USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_SCRIPT_CONFUSABLE, &status);
    if (U_FAILURE(status)) return icu_error("uspoof_setChecks", status);
    return c;
  }();
  if (!instance.is_ok()) return instance.status();
  return static_cast<const Confusables*>(instance.value().get());
}

Result<std::string> Confusables::skeleton(std::string_view label) const {
  if (!fits_int32(label)) return invalid_argument("label too long");
  UErrorCode status = U_ZERO_ERROR;
  // NFKC with case folding first, as IDNA (UTS #46) maps a host before it resolves: full-width
  // 'ｂ' and capitals are the letters a browser goes to, whatever confusables.txt says of them.
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) return icu_error("NFKC_Casefold", status);
  const icu::UnicodeString mapped = nfkc_cf->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(label.data(), static_cast<int32_t>(label.size()))), status);
  if (U_FAILURE(status)) return icu_error("NFKC_Casefold", status);
  icu::UnicodeString skeleton;
  uspoof_getSkeletonUnicodeString(checker_.get(), 0, mapped, skeleton, &status);
  if (U_FAILURE(status)) return icu_error("uspoof_getSkeleton", status);
  std::string out;
  skeleton.toUTF8String(out);
  return out;
}

Result<LabelScripts> Confusables::scripts(std::string_view label) const {
  if (!fits_int32(label)) return invalid_argument("label too long");
  LabelScripts out;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<USpoofCheckResult, CheckResultDeleter> result(uspoof_openCheckResult(&status));
  if (U_FAILURE(status)) return icu_error("uspoof_openCheckResult", status);
  const int32_t failed =
      uspoof_check2UTF8(checker_.get(), label.data(), static_cast<int32_t>(label.size()), result.get(), &status);
  if (U_FAILURE(status)) return icu_error("uspoof_check2UTF8", status);
  out.mixed = (failed & (USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_SCRIPT_CONFUSABLE)) != 0;

  const auto* s = reinterpret_cast<const uint8_t*>(label.data());
  const auto len = static_cast<int32_t>(label.size());
  for (int32_t i = 0; i < len;) {
    UChar32 c = 0;
    U8_NEXT(s, i, len, c);
    if (c < 0x80) continue;  // ASCII, and ill-formed bytes (c < 0)
    UErrorCode script_status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &script_status);
    if (U_FAILURE(script_status) || script == USCRIPT_COMMON || script == USCRIPT_INHERITED) continue;
    const char* name = uscript_getName(script);
    if (name == nullptr) continue;
    if (std::find(out.non_ascii_scripts.begin(), out.non_ascii_scripts.end(), name) == out.non_ascii_scripts.end())
      out.non_ascii_scripts.emplace_back(name);
  }
  return out;
}

std::u32string utf8_to_u32(std::string_view str) {
  std::u32string out;
  out.reserve(str.size());
  const auto* s = reinterpret_cast<const uint8_t*>(str.data());
  const auto len = static_cast<int32_t>(std::min<std::size_t>(str.size(), INT32_MAX));
  for (int32_t i = 0; i < len;) {
    UChar32 c = 0;
    U8_NEXT(s, i, len, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return out;
}

}  // namespace vigil::detect
