#include "common/text/text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/unorm2.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstring>
#include <utility>

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

// What folding does with one code point.
constexpr UChar32 kDrop = -1;   // emoji, zero-width and format characters
constexpr UChar32 kSpace = -2;  // any white space
constexpr UChar32 kMark = -3;   // combining mark: belongs to the letter before

UChar32 classify_slow(UChar32 c) {
  if (dropped(c)) return kDrop;
  if (u_isUWhiteSpace(c)) return kSpace;
  if (u_charType(c) == U_NON_SPACING_MARK) return kMark;
  return base_letter(c);
}

// ICU lookups cost far more than the rest of folding, so the scripts Vietnamese posts are
// written in (Latin, Latin Extended Additional, general punctuation) come from tables built
// once with ICU itself; everything else asks ICU each time.
class FoldTable {
 public:
  FoldTable() {
    for (UChar32 c = 0; c < kLow; ++c) low_[c] = classify_slow(c);
    for (UChar32 c = 0; c < kExtSize; ++c) ext_[c] = classify_slow(kExtBegin + c);
  }
  UChar32 classify(UChar32 c) const {
    if (c < kLow) return low_[c];
    if (c >= kExtBegin && c < kExtBegin + kExtSize) return ext_[c - kExtBegin];
    return classify_slow(c);
  }

 private:
  static constexpr UChar32 kLow = 0x2100;
  static constexpr UChar32 kExtBegin = 0x1E00;
  static constexpr UChar32 kExtSize = 0x100;
  UChar32 low_[kLow];
  UChar32 ext_[kExtSize];
};

const FoldTable& fold_table() {
  static const FoldTable* kTable = new FoldTable();
  return *kTable;
}

void append_utf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(buf, len, U8_MAX_LENGTH, c, error);
  if (!error) out.append(buf, static_cast<std::size_t>(len));
}

// Code points that can never change under NFC or make a neighbour change: NFC quick check
// "yes" and combining class 0. Text made only of these is NFC, so ICU is not asked. A bitmap
// over the BMP and the first supplementary plane (emoji), built once from ICU; anything beyond
// asks ICU directly.
class NfcInert {
 public:
  NfcInert() {
    for (UChar32 c = 0; c < kSize; ++c) {
      if (slow(c)) bits_[static_cast<std::size_t>(c) >> 6] |= std::uint64_t{1} << (c & 63);
    }
  }
  bool operator()(UChar32 c) const {
    if (c < kSize) return (bits_[static_cast<std::size_t>(c) >> 6] >> (c & 63)) & 1;
    return slow(c);
  }

 private:
  static bool slow(UChar32 c) {
    return u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES && u_getCombiningClass(c) == 0;
  }
  static constexpr UChar32 kSize = 0x20000;
  std::uint64_t bits_[kSize / 64] = {};
};

const NfcInert& nfc_inert() {
  static const NfcInert* kInert = new NfcInert();
  return *kInert;
}

// True when `text` is certainly NFC without asking ICU: ASCII (checked 8 bytes at a time) and
// well-formed characters that are all NFC-inert. False means "ask ICU".
bool obviously_nfc(std::string_view text) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto length = static_cast<std::int32_t>(text.size());
  const NfcInert* inert = nullptr;
  std::int32_t i = 0;
  while (true) {
    while (i + 8 <= length) {
      std::uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    while (i < length && s[i] < 0x80) ++i;
    if (i >= length) return true;
    if (inert == nullptr) inert = &nfc_inert();
    // A run of non-ASCII characters.
    do {
      UChar32 c = 0;
      U8_NEXT(s, i, length, c);
      if (c < 0 || !(*inert)(c)) return false;
    } while (i < length && s[i] >= 0x80);
  }
}

}  // namespace

std::string nfc(std::string_view utf8) {
  std::string out(utf8);
  nfc_in_place(out);
  return out;
}

void nfc_in_place(std::string& text) {
  // Almost every post is already NFC (or plain ASCII): check before converting to UTF-16.
  if (obviously_nfc(text)) return;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (normalizer->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return;
  status = U_ZERO_ERROR;
  const auto input = icu::UnicodeString::fromUTF8(piece);
  const icu::UnicodeString normalized = normalizer->normalize(input, status);
  text.clear();
  (U_SUCCESS(status) ? normalized : input).toUTF8String(text);
}

// Per character: case, diacritics, whitespace, emoji and zero-width characters.
static void fold_characters(std::string_view utf8, Folded& out) {
  out.text.clear();
  out.origin.clear();
  out.origin_end.clear();
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto length = static_cast<int32_t>(utf8.size());
  const FoldTable& table = fold_table();
  bool pending_space = false;
  std::uint32_t space_origin = 0;
  std::uint32_t space_end = 0;
  std::size_t last_begin = 0;
  for (int32_t i = 0; i < length;) {
    const auto start = static_cast<std::uint32_t>(i);
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    const auto end = static_cast<std::uint32_t>(i);
    if (c < 0) continue;
    const UChar32 folded = c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c) : table.classify(c);
    if (folded == kDrop) continue;
    if (folded == kMark) {
      // A combining mark belongs to the letter before it: drop it, but let that letter's
      // source span cover it so quotes keep the whole grapheme.
      for (std::size_t k = last_begin; k < out.origin_end.size(); ++k) out.origin_end[k] = end;
      continue;
    }
    if (folded == kSpace || (c < 0x80 && (c == ' ' || (c >= '\t' && c <= '\r')))) {
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
    if (folded < 0x80) {
      out.text.push_back(static_cast<char>(folded));
    } else {
      append_utf8(out.text, folded);
    }
    for (std::size_t k = before; k < out.text.size(); ++k) {
      out.origin.push_back(start);
      out.origin_end.push_back(end);
    }
  }
  out.origin.push_back(static_cast<std::uint32_t>(utf8.size()));
  out.origin_end.push_back(static_cast<std::uint32_t>(utf8.size()));
}

namespace {

// Builds a new folded text whose bytes each come from a span of an earlier one.
class Rebuilder {
 public:
  Rebuilder(const Folded& from, Folded& to) : from_(from), to_(to) {
    to_.text.clear();
    to_.origin.clear();
    to_.origin_end.clear();
  }
  // Appends `bytes`, all produced by folded bytes [begin, end) of the earlier text.
  void emit(std::string_view bytes, std::size_t begin, std::size_t end) {
    flush();
    for (char c : bytes) {
      to_.text.push_back(c);
      to_.origin.push_back(from_.origin[begin]);
      to_.origin_end.push_back(from_.origin_end[end - 1]);
    }
  }
  // Copies bytes [begin, end) unchanged. Adjacent copies are merged and done in bulk: most of
  // a post passes through every stage untouched.
  void copy(std::size_t begin, std::size_t end) {
    if (begin != copy_end_) flush();
    if (copy_begin_ == copy_end_) copy_begin_ = begin;
    copy_end_ = end;
  }
  void copy(std::size_t i) { copy(i, i + 1); }
  void finish() {
    flush();
    to_.origin.push_back(from_.origin.back());
    to_.origin_end.push_back(from_.origin_end.back());
  }

 private:
  void flush() {
    if (copy_begin_ == copy_end_) return;
    to_.text.append(from_.text, copy_begin_, copy_end_ - copy_begin_);
    to_.origin.insert(to_.origin.end(), from_.origin.begin() + static_cast<std::ptrdiff_t>(copy_begin_),
                      from_.origin.begin() + static_cast<std::ptrdiff_t>(copy_end_));
    to_.origin_end.insert(to_.origin_end.end(), from_.origin_end.begin() + static_cast<std::ptrdiff_t>(copy_begin_),
                          from_.origin_end.begin() + static_cast<std::ptrdiff_t>(copy_end_));
    copy_begin_ = copy_end_ = 0;
  }

  const Folded& from_;
  Folded& to_;
  std::size_t copy_begin_ = 0;
  std::size_t copy_end_ = 0;
};

bool ascii_letter(char c) {
  return c >= 'a' && c <= 'z';
}
bool token_char(char c) {
  return ascii_letter(c) || (c >= '0' && c <= '9') || c == '@' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// "d.a.t.a", "d a t a", "d-a-t-a": single letters joined by one repeated separator become one
// word ("data"). Three letters at least (four with spaces, where "o a b" can be real words).
void join_spelled_out(const Folded& in, Folded& out) {
  Rebuilder r(in, out);
  const std::string& t = in.text;
  std::size_t i = 0;
  while (i < t.size()) {
    const bool single = token_char(t[i]) && (i == 0 || !token_char(t[i - 1])) && i + 1 < t.size() &&
                        !token_char(t[i + 1]) &&
                        (t[i + 1] == '.' || t[i + 1] == ' ' || t[i + 1] == '-' || t[i + 1] == '_' || t[i + 1] == '*');
    if (single) {
      const char sep = t[i + 1];
      std::size_t j = i;
      std::size_t letters = 0;
      // Letters at j, j+2, j+4 ... each a single letter, joined by `sep`.
      auto single_at = [&](std::size_t k) {
        return k < t.size() && token_char(t[k]) && static_cast<unsigned char>(t[k]) < 0x80 &&
               (k + 1 == t.size() || !token_char(t[k + 1]));
      };
      while (single_at(j)) {
        ++letters;
        if (j + 2 < t.size() && t[j + 1] == sep && single_at(j + 2)) {
          j += 2;
        } else {
          break;
        }
      }
      if (letters >= (sep == ' ' ? 4u : 3u)) {
        for (std::size_t k = i; k <= j; k += 2) r.copy(k);
        i = j + 1;
        continue;
      }
    }
    r.copy(i);
    ++i;
  }
  r.finish();
}

struct Spelling {
  std::string_view chat;
  std::string_view word;
};
// Common Vietnamese chat spellings, in folded form, as whole words.
constexpr Spelling kSpellings[] = {
    {"ko", "khong"},    {"hok", "khong"},         {"kh", "khong"},         {"hong", "khong"},    {"dc", "duoc"},
    {"j", "gi"},        {"sdt", "so dien thoai"}, {"stk", "so tai khoan"}, {"tk", "tai khoan"},  {"ck", "chuyen khoan"},
    {"zl", "zalo"},     {"fb", "facebook"},       {"tele", "telegram"},    {"mk", "minh"},       {"vs", "voi"},
    {"ng", "nguoi"},    {"ae", "anh em"},         {"nt", "nhan tin"},      {"dt", "dien thoai"}, {"sp", "san pham"},
    {"sl", "so luong"}, {"inb", "inbox"},         {"nhiu", "nhieu"},       {"dk", "dang ky"},    {"dky", "dang ky"},
    {"r", "roi"},       {"k", "khong"},
};

// "k" is "không" in chat ("k cần thế chấp", "được k?") but "nghìn" after a number ("150 k",
// "35 k/hộp"), a letter in names and codes ("vitamin k", "k-pop", "lớp 12k"): only a k that
// stands alone between spaces or sentence punctuation and does not follow a number is không.
bool k_means_khong(std::string_view t, std::size_t i, std::size_t j, bool after_number) {
  auto separator = [](char c) {
    return c == ' ' || c == ',' || c == '.' || c == '!' || c == '?' || c == ';' || c == ':';
  };
  if (after_number) return false;
  if (i > 0 && !separator(t[i - 1]) && t[i - 1] != '(') return false;
  return j == t.size() || separator(t[j]) || t[j] == ')';
}

// Chat spellings are at most 4 letters: pack them into integers and binary-search, since this
// runs for every word of every post.
std::uint32_t pack(std::string_view w) {
  std::uint32_t v = 0;
  for (char c : w) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string_view chat_spelling(std::string_view word) {
  static const auto kIndex = [] {
    std::vector<std::pair<std::uint32_t, std::string_view>> index;
    for (const auto& s : kSpellings) index.emplace_back(pack(s.chat), s.word);
    std::sort(index.begin(), index.end());
    return index;
  }();
  if (word.empty() || word.size() > 4) return {};
  const std::uint32_t key = pack(word);
  const auto it = std::lower_bound(kIndex.begin(), kIndex.end(), std::make_pair(key, std::string_view()),
                                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return it != kIndex.end() && it->first == key ? it->second : std::string_view();
}

char leet_letter(char c) {
  switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '@': return 'a';
    case '$': return 's';
    default: return c;
  }
}

// A number followed by a unit, and maybe more digits: "3tr", "1tr5", "12usdt", "20gb".
bool amount_with_unit(std::string_view w) {
  static constexpr std::string_view kUnits[] = {"tr", "trieu", "ty", "k",  "usdt", "usd", "vnd", "d", "m",  "gb",
                                                "mb", "tb",    "kg", "km", "cm",   "mm",  "h",   "p", "ml", "l"};
  std::size_t a = 0;
  while (a < w.size() && w[a] >= '0' && w[a] <= '9') ++a;
  if (a == 0) return false;
  std::size_t b = a;
  while (b < w.size() && ascii_letter(w[b])) ++b;
  for (std::size_t c = b; c < w.size(); ++c) {
    if (w[c] < '0' || w[c] > '9') return false;
  }
  return std::find(std::begin(kUnits), std::end(kUnits), w.substr(a, b - a)) != std::end(kUnits);
}

// Per word: leetspeak (d4t4 -> data) in words that are mostly letters, runs of three or more
// equal letters collapsed (baaaan -> ban), then chat spellings (ko -> khong).
void fold_words(const Folded& in, Folded& out) {
  Rebuilder r(in, out);
  const std::string& t = in.text;
  struct Scratch {
    std::string word;
    std::vector<std::size_t> from, to;  // span in `in` of each byte of `word`
  };
  thread_local Scratch scratch;
  std::string& word = scratch.word;
  std::vector<std::size_t>& from = scratch.from;
  std::vector<std::size_t>& to = scratch.to;
  std::size_t i = 0;
  bool after_number = false;  // the previous word is a number ("150 k", "1.500 k")
  while (i < t.size()) {
    if (!token_char(t[i])) {
      r.copy(i++);
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && token_char(t[j])) ++j;
    const bool number =
        std::all_of(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(j),
                    [](char c) { return c >= '0' && c <= '9'; });
    const bool previous_number = std::exchange(after_number, number);
    if (j - i == 1 && t[i] == 'k' && !k_means_khong(t, i, j, previous_number)) {
      r.copy(i, j);
      i = j;
      continue;
    }
    std::size_t letters = 0, others = 0;
    for (std::size_t k = i; k < j; ++k) (ascii_letter(t[k]) ? letters : others) += 1;
    // "4g", "50k", "2024" keep their digits; "d4t4", "kh4ch", "b@n", "$im", "r3" lose them.
    // Amounts with a unit keep their digits too: "3tr", "1tr5", "12usdt", "5kg".
    const bool leet = letters >= others && (letters >= 2 || ascii_letter(t[i])) && t[i] != '@' &&
                      !amount_with_unit(std::string_view(t).substr(i, j - i));
    // Most words need none of this: no leet characters, no letter run, too long to be a chat
    // spelling. They are copied as they are.
    bool plain = true;
    for (std::size_t k = i; plain && k < j; ++k) {
      const char c = t[k];
      if (leet && leet_letter(c) != c) plain = false;
      if (k >= i + 2 && c == t[k - 1] && c == t[k - 2]) plain = false;
    }
    if (plain && j - i <= 4 && !chat_spelling(std::string_view(t).substr(i, j - i)).empty()) plain = false;
    if (plain) {
      r.copy(i, j);
      i = j;
      continue;
    }
    word.clear();
    from.clear();
    to.clear();
    for (std::size_t k = i; k < j;) {
      const char c = leet ? leet_letter(t[k]) : t[k];
      std::size_t run_end = k + 1;
      while (ascii_letter(c) && run_end < j && (leet ? leet_letter(t[run_end]) : t[run_end]) == c) ++run_end;
      // Three or more equal letters inside or at the end of a word are emphasis ("baaaan");
      // two may be spelling ("facebook"), and at the start they are initials ("cccd", "www").
      const std::size_t keep = run_end - k >= 3 && k > i ? 1 : run_end - k;
      for (std::size_t n = 0; n < keep; ++n) {
        word.push_back(c);
        from.push_back(k + n);
        to.push_back(keep == 1 ? run_end : k + n + 1);
      }
      k = run_end;
    }
    const std::string_view replacement = chat_spelling(word);
    if (!replacement.empty()) {
      r.emit(replacement, i, j);
    } else {
      for (std::size_t k = 0; k < word.size(); ++k) r.emit(std::string_view(&word[k], 1), from[k], to[k]);
    }
    i = j;
  }
  r.finish();
}

}  // namespace

void fold(std::string_view utf8, Folded& out) {
  thread_local Folded characters;
  thread_local Folded joined;
  fold_characters(utf8, characters);
  join_spelled_out(characters, joined);
  fold_words(joined, out);
}

std::size_t code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace vigil::text
