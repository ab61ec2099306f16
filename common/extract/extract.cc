#include "common/extract/extract.h"

#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <functional>

#include "common/extract/byte_set.h"
#include "common/extract/memo.h"
#include "common/extract/scan.h"
#include "common/extract/url.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil::extract {
namespace {

const psl_ctx_t* psl() {
  // The system list (package publicsuffix) is newer than the one built into libpsl.
  static const psl_ctx_t* kCtx = [] {
    const psl_ctx_t* ctx = psl_latest(nullptr);
    return ctx != nullptr ? ctx : psl_builtin();
  }();
  return kCtx;
}

// Byte classes, one table lookup instead of chains of comparisons in the hot loops.
enum : std::uint8_t { kAlnum = 1, kUrlDelimiter = 2, kLocalChar = 4, kDomainChar = 8 };
constexpr std::array<std::uint8_t, 256> kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    std::uint8_t k = 0;
    if (alnum) k |= kAlnum;
    if (detail::url_delimiter_byte(static_cast<unsigned char>(c))) k |= kUrlDelimiter;
    if (alnum || c == '.' || c == '_' || c == '%' || c == '+' || c == '-') k |= kLocalChar;
    if (alnum || c == '.' || c == '-') k |= kDomainChar;
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}();

bool has_class(char c, std::uint8_t k) {
  return (kClass[static_cast<unsigned char>(c)] & k) != 0;
}
bool is_alnum(char c) {
  return has_class(c, kAlnum);
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

using detail::ByteSet;
using detail::find_first_in;
using detail::find_first_not_in;
constexpr ByteSet kPathEnd("/?");    // ends a host part or a path segment
constexpr ByteSet kHostEnd("/?#:");  // ends the host of a token as written
constexpr ByteSet kDottedDigits("0123456789.");
// "số0912..." is not a phone boundary: UTF-8 letters count as word bytes.
using text::is_word_byte;

// ASCII only: locale-aware std::tolower is a library call per byte and the hot loops here
// only ever compare ASCII patterns.
char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool starts_with_ci(std::string_view s, std::size_t pos, std::string_view lower) {
  if (pos > s.size() || s.size() - pos < lower.size()) return false;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if (ascii_lower(s[pos + i]) != lower[i]) return false;
  }
  return true;
}

// A copy of the text with URL obfuscations undone, and where each byte came from.
struct Deobfuscated {
  std::string text;
  std::vector<std::uint32_t> origin;  // one per byte of text, plus the input size
};

using detail::Candidates;

// A run of digits as read_digits reads it.
struct DigitRun {
  char digits[20];
  std::size_t size = 0;
  std::size_t start = 0;
  std::size_t end = 0;  // one past the last digit

  std::string_view view() const { return {digits, size}; }
};

// A bank account found before it is added (after the citizen IDs; see digit_entities_at).
struct BankAccount {
  DigitRun run;
  std::string_view bank;
};

// Buffers reused by every extraction on a thread, so that the steady path does not allocate.
struct Scratch {
  Candidates candidates;
  Deobfuscated clean;
  Candidates clean_candidates;  // of `clean`
  UrlBuffers url;
  std::string value;                  // an entity value being put together
  std::string suffix;                 // known_suffix's lower-cased label, NUL-terminated for libpsl
  std::vector<BankAccount> accounts;  // found by digit_entities_at, added after the IDs
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Whether the last label of a bare host ("shop.xyz") is a public suffix. Asked for every
// dotted token without a scheme, mostly of the same few labels ("vn", "com", and words after a
// missing space: "ngay.Lien"), so recent answers are remembered per thread (direct-mapped, by
// the lower-cased label; longer labels are not remembered). Not a detail::Memo: labels are
// short, and lower-casing into the slot's own buffer with a one-multiply hash was 2-4 % of
// extraction faster than a std::string key and std::hash.
bool known_suffix(std::string_view tld) {
  if (tld.empty() || !std::all_of(tld.begin(), tld.end(), [](char c) { return is_ascii_letter(c) || c == '-'; })) {
    return false;
  }
  // Listed, not under the implicit "*" rule: a bare host needs a real suffix.
  auto listed = [](const char* lowered) {
    return psl_is_public_suffix2(psl(), lowered, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
  };
  struct Slot {
    char label[16];         // lower-cased, NUL-terminated
    std::uint8_t size = 0;  // 0: empty
    bool suffix = false;
  };
  if (tld.size() >= sizeof Slot::label) {
    std::string& label = scratch().suffix;
    label.assign(tld);
    for (char& c : label) c = ascii_lower(c);
    return listed(label.c_str());
  }
  char lowered[sizeof Slot::label];
  auto hash = static_cast<std::uint32_t>(tld.size());
  for (std::size_t k = 0; k < tld.size(); ++k) {
    lowered[k] = ascii_lower(tld[k]);
    hash = hash * 31 + static_cast<unsigned char>(lowered[k]);
  }
  lowered[tld.size()] = '\0';
  thread_local std::array<Slot, 256> memo;
  Slot& slot = memo[(hash ^ (hash >> 8)) & 0xff];
  if (slot.size != tld.size() || std::memcmp(slot.label, lowered, tld.size()) != 0) {
    std::memcpy(slot.label, lowered, tld.size() + 1);
    slot.size = static_cast<std::uint8_t>(tld.size());
    slot.suffix = listed(lowered);
  }
  return slot.suffix;
}

// Whether a host or one of its suffixes is a public suffix, as libpsl's registrable-domain
// lookup asks it (any rule, the implicit "*" included). A host's shorter suffixes ("com.vn",
// "vn") are shared by most hosts, so their answers are remembered per thread (direct-mapped);
// the whole host is asked each time (see registrable_domain_of).
bool public_suffix(const char* lowered, bool remember) {
  auto ask = [lowered](bool& answer) { answer = psl_is_public_suffix(psl(), lowered) != 0; };
  if (!remember) {
    bool answer = false;
    ask(answer);
    return answer;
  }
  thread_local detail::Memo<bool, 256> memo;
  return memo.get(lowered, ask);
}

// psl_registrable_domain() with its shorter suffixes' answers remembered: the label before the
// longest suffix that is a public suffix, none when the host is one. libpsl walks the host the
// same way, from the left, asking psl_is_public_suffix() of each suffix; a fresh subdomain of
// a known site thus costs one libpsl question instead of three or four. Null for none.
const char* registrable_domain_in(const char* host) {
  if (*host == '\0' || *host == '.') return psl_registrable_domain(psl(), host);
  const char* registrable = nullptr;
  for (const char* domain = host; !public_suffix(domain, domain != host);) {
    const char* dot = std::strchr(domain, '.');
    if (dot == nullptr) break;
    registrable = domain;
    domain = dot + 1;
  }
  return registrable;
}

// The registrable domain of a canonical host; empty for none. Posts link the same few hosts
// again and again, and the Public Suffix List lookup was the largest part of handling a URL,
// so recent answers are remembered per thread (direct-mapped; the view is valid until the next
// call).
std::string_view registrable_domain_of(const std::string& host) {
  thread_local detail::Memo<std::string, 256> memo;
  return memo.get(host, [&host](std::string& domain) {
    const char* found = registrable_domain_in(host.c_str());
    domain.assign(found != nullptr ? found : "");
  });
}

// ---- folded-text context -----------------------------------------------------------------

std::size_t folded_index(const text::Folded& folded, std::size_t byte) {
  return static_cast<std::size_t>(std::lower_bound(folded.origin.begin(), folded.origin.end(), byte) -
                                  folded.origin.begin());
}

// Context words, indexed by their first byte so that a window is scanned once for all of them.
template <std::size_t N>
struct WordSet {
  std::array<std::string_view, N> words;
  std::array<std::uint64_t, 256> by_first{};  // bit i: words[i] starts with this byte

  constexpr explicit WordSet(std::array<std::string_view, N> w) : words(w) {
    static_assert(N <= 64);
    for (std::size_t i = 0; i < N; ++i) by_first[static_cast<unsigned char>(words[i][0])] |= std::uint64_t{1} << i;
  }
};

// Calls f(index, pos) for every whole-word occurrence of a word of `set` that lies inside
// folded.text[lo, hi); stops when f returns true.
template <std::size_t N, typename F>
bool for_each_word(std::string_view t, std::size_t lo, std::size_t hi, const WordSet<N>& set, F f) {
  for (std::size_t pos = lo; pos < hi; ++pos) {
    std::uint64_t bits = set.by_first[static_cast<unsigned char>(t[pos])];
    if (bits == 0 || (pos > 0 && is_word_byte(t[pos - 1]))) continue;
    while (bits != 0) {
      const std::size_t k = static_cast<std::size_t>(__builtin_ctzll(bits));
      bits &= bits - 1;
      const std::string_view w = set.words[k];
      const std::size_t e = pos + w.size();
      if (e > hi || t.compare(pos, w.size(), w) != 0) continue;
      if (e < t.size() && is_word_byte(t[e])) continue;
      if (f(k, pos)) return true;
    }
  }
  return false;
}

// Whether one of `words` occurs as whole words in folded.text within `before` bytes before
// `begin` or `after` bytes after `end` (folded positions).
template <std::size_t N>
bool near_words(const text::Folded& folded, std::size_t begin, std::size_t end, std::size_t before, std::size_t after,
                const WordSet<N>& words) {
  const std::string_view t(folded.text);
  const std::size_t lo = begin > before ? begin - before : 0;
  const std::size_t hi = std::min(t.size(), end + after);
  if (lo >= hi) return false;
  // Only the window: a search over the rest of the post per digit run is quadratic.
  return for_each_word(t, lo, hi, words, [&](std::size_t k, std::size_t pos) {
    return !(pos < end && pos + words.words[k].size() > begin);  // not inside the value itself
  });
}

// ---- URLs ------------------------------------------------------------------------------------

void deobfuscate(std::string_view in, Deobfuscated& out) {
  static constexpr std::array<std::string_view, 6> kDots = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"};
  // Every rewrite is as long as what it replaces or shorter, so the output fits in the input's
  // size: written through pointers (push_back per byte was most of this function's time),
  // over whatever `out` held before.
  out.text.resize(in.size());
  out.origin.resize(in.size() + 1);
  char* text = out.text.data();
  std::uint32_t* origin = out.origin.data();
  std::size_t n = 0;
  const auto put = [&](char c, std::size_t from) {
    text[n] = c;
    origin[n] = static_cast<std::uint32_t>(from);
    ++n;
  };
  std::size_t i = 0;
  while (i < in.size()) {
    // Every pattern starts with one of these bytes; most bytes are copied straight away.
    const char b = in[i];
    if (b != 'h' && b != 'H' && b != '[' && b != '(' && b != '{' && b != ' ') {
      put(b, i);
      ++i;
      continue;
    }
    if (b == ' ') {
      if (starts_with_ci(in, i, " dot ") && i > 0 && is_alnum(in[i - 1]) && i + 5 < in.size() && is_alnum(in[i + 5])) {
        put('.', i);
        i += 5;
      } else {
        put(b, i);
        ++i;
      }
      continue;
    }
    if (starts_with_ci(in, i, "hxxps")) {
      for (char c : std::string_view("https")) put(c, i);
      i += 5;
      continue;
    }
    if (starts_with_ci(in, i, "hxxp")) {
      for (char c : std::string_view("http")) put(c, i);
      i += 4;
      continue;
    }
    bool replaced = false;
    for (const auto pattern : kDots) {
      if (starts_with_ci(in, i, pattern)) {
        // "example [.] com" -> "example.com": drop the spaces around a bracketed dot.
        while (n > 0 && text[n - 1] == ' ') --n;
        put('.', i);
        i += pattern.size();
        while (i < in.size() && in[i] == ' ') ++i;
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    if (starts_with_ci(in, i, "[:]") || starts_with_ci(in, i, "[/]")) {
      put(in[i + 1], i);
      i += 3;
      continue;
    }
    put(in[i], i);
    ++i;
  }
  origin[n] = static_cast<std::uint32_t>(in.size());
  out.text.resize(n);
  out.origin.resize(n + 1);
}

}  // namespace

bool written_defanged(std::string_view written) {
  static constexpr std::array<std::string_view, 10> kMarks = {"hxxp",  "[.]",   "(.)",   "{.}", "[dot]",
                                                              "(dot)", "{dot}", " dot ", "[:]", "[/]"};
  for (std::size_t i = 0; i < written.size(); ++i) {
    for (const auto mark : kMarks) {
      if (starts_with_ci(written, i, mark)) return true;
    }
  }
  return false;
}

namespace {

bool url_delimiter(char c) {
  return has_class(c, kUrlDelimiter);
}

bool valid_handle_name(std::string_view name) {
  if (name.size() < 5 || name.size() > 32 || !is_ascii_letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// `prefix` + lower-cased `s`, in the scratch buffer.
std::string_view lowered(std::string_view prefix, std::string_view s) {
  std::string& out = scratch().value;
  out.assign(prefix);
  for (char c : s) out.push_back(ascii_lower(c));
  return out;
}

// One phone number at a find_phones start: the E.164 value ("+84" and nine digits) and the end
// of the number in the text, or false.
struct Phone {
  char value[12];
  std::size_t end;
  std::string_view view() const { return {value, sizeof value}; }
};
bool phone_at(std::string_view text, std::size_t i, Phone& phone);

// Whether find_phones starts reading a number at text[i].
bool phone_start(std::string_view text, std::size_t i) {
  const char c = text[i];
  // A leading O for the 0 ("O912...") counts when a digit follows.
  const bool letter_zero = (c == 'O' || c == 'o') && i + 1 < text.size() && is_digit(text[i + 1]);
  if (c != '+' && c != '0' && c != '8' && !letter_zero) return false;
  if (i > 0 && (is_word_byte(text[i - 1]) || text[i - 1] == '+')) return false;
  const std::size_t from = c == '+' ? i + 1 : i;
  return from < text.size() && (is_digit(text[from]) || letter_zero);
}

// Adds the URL, its domain, and what a few well-known hosts say about people behind them.
// `url` and `host` as from canonicalize_url; `domain` the registrable domain (or the IPv4).
void add_canonical(std::string_view url, std::string_view host, std::string_view domain, std::uint32_t start,
                   std::uint32_t end, EntityList& out) {
  out.add_unique(EntityType::kUrl, url, "", start, end);
  if (!domain.empty()) out.add_unique(EntityType::kDomain, domain, "", start, end);
  const std::string_view path = url.substr(url.find('/', url.find("://") + 3) + 1);
  const std::string_view first_segment = path.substr(0, std::min(find_first_in(path, kPathEnd), path.size()));
  if ((host == "t.me" || host == "telegram.me") && valid_handle_name(first_segment) && first_segment != "joinchat") {
    out.add_unique(EntityType::kHandle, lowered("@", first_segment), "telegram", start, end);
  }
  if (host == "zalo.me") {
    for (std::size_t i = 0; i < first_segment.size(); ++i) {
      Phone phone;
      if (!phone_start(first_segment, i) || !phone_at(first_segment, i, phone)) continue;
      out.add_unique(EntityType::kPhone, phone.view(), "zalo", start, end);
      i = phone.end;
    }
  }
}

void add_canonical(const UrlBuffers& c, std::uint32_t start, std::uint32_t end, EntityList& out) {
  const bool ip = parse_ipv4(c.host).has_value();
  add_canonical(c.url, c.host, ip ? std::string_view(c.host) : registrable_domain_of(c.host), start, end, out);
}

void consider_token(std::string_view token, std::uint32_t start, std::uint32_t end, EntityList& out) {
  const bool has_scheme = starts_with_ci(token, 0, "http://") || starts_with_ci(token, 0, "https://");
  if (!has_scheme) {
    const std::size_t host_end = std::min(find_first_in(token, kHostEnd), token.size());
    const std::string_view host = token.substr(0, host_end);
    if (host.find('@') != std::string_view::npos) return;  // an e-mail address
    const auto last_dot = host.rfind('.');
    if (last_dot == std::string_view::npos || last_dot == 0) return;
    const bool ip = find_first_not_in(host, kDottedDigits) == std::string_view::npos &&
                    std::count(host.begin(), host.end(), '.') == 3 && parse_ipv4(host).has_value();
    if (!ip && !known_suffix(host.substr(last_dot + 1))) return;
  }
  UrlBuffers& c = scratch().url;
  if (!canonicalize_url(token, c)) return;
  const bool ip = parse_ipv4(c.host).has_value();
  const std::string_view domain = ip ? std::string_view(c.host) : registrable_domain_of(c.host);
  if (!has_scheme && !ip && domain.empty()) return;
  add_canonical(c.url, c.host, domain, start, end, out);
}

// "http://3279880203/x", "https://0xC37F000B": an IPv4 address written as one number, which
// browsers open like the dotted form. Other hosts without a dot are not links.
bool dotless_ip_url(std::string_view token) {
  const bool has_scheme = starts_with_ci(token, 0, "http://") || starts_with_ci(token, 0, "https://");
  if (!has_scheme) return false;
  token.remove_prefix(token.find("://") + 3);
  const std::string_view host = token.substr(0, std::min(find_first_in(token, kHostEnd), token.size()));
  return !host.empty() && parse_ipv4(host).has_value();
}

bool trailing_punctuation(char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?';
}

// The token t[i, j) (between URL delimiters): a URL or host when it looks like one.
void consider_span(std::string_view t, std::size_t i, std::size_t j, const Deobfuscated* rewritten, EntityList& out) {
  std::string_view token = t.substr(i, j - i);
  while (!token.empty() && trailing_punctuation(token.back())) token.remove_suffix(1);
  if (token.find('.') == std::string_view::npos && !dotless_ip_url(token)) return;
  const auto origin = [&](std::size_t k) {
    return rewritten != nullptr ? rewritten->origin[k] : static_cast<std::uint32_t>(k);
  };
  consider_token(token, origin(i), origin(i + token.size()), out);
}

// ---- digit runs ------------------------------------------------------------------------------

// Digits from `pos`, allowing one separator (space, dot, dash) between digits; stops after
// `max_digits`. Letters for digits (O/o -> 0, l/I -> 1) only when `letters` is set and a real
// digit is next to them. With `ends`, ends[k] is where the run would end after k + 1 digits:
// the run with a smaller limit is a prefix of this one (prefix_run()).
DigitRun read_digits(std::string_view text, std::size_t pos, std::size_t max_digits, bool letters,
                     std::uint32_t* ends = nullptr) {
  max_digits = std::min<std::size_t>(max_digits, sizeof DigitRun::digits);
  DigitRun run;
  run.start = pos;
  std::size_t i = pos;
  while (i < text.size() && run.size < max_digits) {
    const char c = text[i];
    char digit = 0;
    if (is_digit(c)) {
      digit = c;
    } else if (letters && (c == 'O' || c == 'o' || c == 'l' || c == 'I')) {
      const bool next_digit = i + 1 < text.size() && is_digit(text[i + 1]);
      const bool prev_digit = i > 0 && is_digit(text[i - 1]);
      if (next_digit || prev_digit) digit = (c == 'O' || c == 'o') ? '0' : '1';
    }
    if (digit != 0) {
      run.digits[run.size++] = digit;
      run.end = ++i;
      if (ends != nullptr) ends[run.size - 1] = static_cast<std::uint32_t>(i);
      continue;
    }
    if ((c == ' ' || c == '.' || c == '-') && run.size != 0 && i + 1 < text.size() &&
        (is_digit(text[i + 1]) || (letters && i + 2 < text.size() && is_digit(text[i + 2])))) {
      ++i;
      continue;
    }
    break;
  }
  return run;
}

// What read_digits would have read with `max_digits` (no more than run's own limit), from a
// run read with `ends`.
DigitRun prefix_run(const DigitRun& run, const std::uint32_t* ends, std::size_t max_digits) {
  if (run.size <= max_digits) return run;
  DigitRun prefix = run;
  prefix.size = max_digits;
  prefix.end = ends[max_digits - 1];
  return prefix;
}

bool run_ends_cleanly(std::string_view text, const DigitRun& run) {
  return run.end >= text.size() || !is_word_byte(text[run.end]);
}

bool valid_mobile(std::string_view national) {
  if (national.size() != 10 || national[0] != '0') return false;
  const char a = national[1], b = national[2];
  switch (a) {
    case '3': return b >= '2' && b <= '9';
    case '5': return b == '2' || b == '5' || b == '6' || b == '8' || b == '9';
    case '7': return b == '0' || (b >= '6' && b <= '9');
    case '8': return b >= '1' && b <= '9';
    case '9': return true;
    default: return false;
  }
}

// CCCD province codes (Circular 07/2016/TT-BCA): 63 codes from 001 to 096, with gaps.
constexpr std::array<int, 63> kProvinces = {1,  2,  4,  6,  8,  10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25,
                                            26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48,
                                            49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75,
                                            77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96};

int year_of(TimestampMs ms) {
  // Good enough for an age-plausibility check: 365.2425-day years.
  return 1970 + static_cast<int>(ms / 1000 / 31556952);
}

// Bank names and short names as they appear in folded text, with the name to report.
struct BankName {
  std::string_view folded;
  std::string_view name;
};
constexpr std::array<BankName, 44> kBanks = {{
    {"vietcombank", "Vietcombank"},
    {"vcb", "Vietcombank"},
    {"vietinbank", "VietinBank"},
    {"ctg", "VietinBank"},
    {"bidv", "BIDV"},
    {"agribank", "Agribank"},
    {"techcombank", "Techcombank"},
    {"tcb", "Techcombank"},
    {"mbbank", "MB"},
    {"mb bank", "MB"},
    {"mb", "MB"},
    {"acb", "ACB"},
    {"vpbank", "VPBank"},
    {"tpbank", "TPBank"},
    {"sacombank", "Sacombank"},
    {"shb", "SHB"},
    {"hdbank", "HDBank"},
    {"ocb", "OCB"},
    {"msb", "MSB"},
    {"vib", "VIB"},
    {"seabank", "SeABank"},
    {"eximbank", "Eximbank"},
    {"lpbank", "LPBank"},
    {"lienvietpostbank", "LPBank"},
    {"nam a bank", "Nam A Bank"},
    {"namabank", "Nam A Bank"},
    {"bac a bank", "Bac A Bank"},
    {"pvcombank", "PVcomBank"},
    {"scb", "SCB"},
    {"abbank", "ABBANK"},
    {"kienlongbank", "KienlongBank"},
    {"bvbank", "BVBank"},
    {"ncb", "NCB"},
    {"saigonbank", "Saigonbank"},
    {"vietabank", "VietABank"},
    {"pgbank", "PGBank"},
    {"gpbank", "GPBank"},
    {"oceanbank", "OceanBank"},
    {"vietbank", "Vietbank"},
    {"baovietbank", "BaoViet Bank"},
    {"shinhan", "Shinhan Bank"},
    {"timo", "Timo"},
    {"momo", "MoMo"},
    {"zalopay", "ZaloPay"},
}};

constexpr auto kBankWords = [] {
  std::array<std::string_view, kBanks.size()> words{};
  for (std::size_t i = 0; i < kBanks.size(); ++i) words[i] = kBanks[i].folded;
  return WordSet<kBanks.size()>(words);
}();

// The bank named nearest to folded position [begin, end), within `window` bytes; empty if none.
// Ties go to the bank listed first.
std::string_view nearest_bank(const text::Folded& folded, std::size_t begin, std::size_t end, std::size_t window) {
  const std::string_view t(folded.text);
  const std::size_t lo = begin > window ? begin - window : 0;
  const std::size_t hi = std::min(t.size(), end + window);
  if (lo >= hi) return {};
  std::size_t best = kBanks.size();
  std::size_t best_distance = window + 1;
  for_each_word(t, lo, hi, kBankWords, [&](std::size_t k, std::size_t pos) {
    const std::size_t e = pos + kBanks[k].folded.size();
    const std::size_t distance = e <= begin ? begin - e : pos >= end ? pos - end : 0;
    if (distance < best_distance || (distance == best_distance && k < best)) {
      best_distance = distance;
      best = k;
    }
    return false;
  });
  return best < kBanks.size() ? kBanks[best].name : std::string_view();
}

constexpr WordSet<9> kCccdWords(std::array<std::string_view, 9>{"cccd", "can cuoc", "cmnd", "cmt", "chung minh",
                                                                "dinh danh", "so id", "the can cuoc", "id card"});
constexpr WordSet<3> kCmndWords(std::array<std::string_view, 3>{"cmnd", "cmt", "chung minh"});
constexpr WordSet<7> kAccountWords(std::array<std::string_view, 7>{"stk", "so tk", "so tai khoan", "tai khoan", "tk",
                                                                   "account", "acc"});
constexpr WordSet<4> kTelegramWords(std::array<std::string_view, 4>{"telegram", "tele", "tg", "tl"});

}  // namespace

std::string_view entity_type_name(EntityType t) {
  switch (t) {
    case EntityType::kUrl: return "url";
    case EntityType::kDomain: return "domain";
    case EntityType::kPhone: return "phone";
    case EntityType::kEmail: return "email";
    case EntityType::kCitizenId: return "citizen_id";
    case EntityType::kBankAccount: return "bank_account";
    case EntityType::kHandle: return "handle";
    case EntityType::kAccount: return "account";
  }
  return "unknown";
}

std::optional<EntityType> entity_type_from_name(std::string_view name) {
  for (const auto t : {EntityType::kUrl, EntityType::kDomain, EntityType::kPhone, EntityType::kEmail,
                       EntityType::kCitizenId, EntityType::kBankAccount, EntityType::kHandle, EntityType::kAccount}) {
    if (entity_type_name(t) == name) return t;
  }
  return std::nullopt;
}

bool is_personal(EntityType t) {
  return t != EntityType::kUrl && t != EntityType::kDomain;
}

std::string mask(std::string_view value) {
  std::string out;
  if (const auto colon = value.rfind(':'); colon != std::string_view::npos) {
    out.append(value.substr(0, colon + 1));
    value.remove_prefix(colon + 1);
  }
  if (value.size() <= 4) {
    out.append(value.size(), '*');
    return out;
  }
  out.append(value.substr(0, 2));
  out.append(value.size() - 4, '*');
  out.append(value.substr(value.size() - 2));
  return out;
}

std::string mask(EntityType type, std::string_view value) {
  auto keep = [](std::string_view v, std::size_t head, std::size_t tail) {
    if (v.size() <= head + tail) return std::string(v.size(), '*');
    return std::string(v.substr(0, head)) + std::string(v.size() - head - tail, '*') +
           std::string(v.substr(v.size() - tail));
  };
  switch (type) {
    case EntityType::kUrl:
    case EntityType::kDomain: return std::string(value);
    case EntityType::kPhone:
      if (value.starts_with("+84")) return keep("0" + std::string(value.substr(3)), 2, 2);
      return keep(value, 2, 2);
    case EntityType::kCitizenId: return keep(value, 3, 2);
    case EntityType::kBankAccount: return keep(value, 0, 3);
    case EntityType::kEmail: {
      const auto at = value.find('@');
      if (at == std::string_view::npos) return keep(value, 2, 0);
      return keep(value.substr(0, at), std::min<std::size_t>(2, at / 2), 0) + std::string(value.substr(at));
    }
    case EntityType::kHandle:
      if (value.starts_with("@")) return "@" + keep(value.substr(1), 2, 0);
      return keep(value, 2, 0);
    case EntityType::kAccount: return mask(value);
  }
  return mask(value);
}

std::string canonical_host(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return {};
  std::string lowered(host);
  bool ascii = true;
  for (char& c : lowered) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
    } else {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return {};
    }
  }
  if (ascii) return lowered;
  char* converted = nullptr;
  if (idn2_to_ascii_8z(lowered.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) return {};
  std::string result(converted);
  idn2_free(converted);
  return result;
}

std::string_view url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  return url.substr(0, std::min(find_first_in(url, kPathEnd), url.size()));
}

std::string host_to_unicode(std::string_view canonical) {
  const std::string host(canonical);
  if (host.find("xn--") == std::string::npos) return host;
  char* converted = nullptr;
  if (idn2_to_unicode_8z8z(host.c_str(), &converted, 0) != IDN2_OK) return host;
  std::string result(converted);
  idn2_free(converted);
  return result;
}

void host_to_unicode(std::string_view canonical, std::string& out) {
  out.assign(canonical);
  if (out.find("xn--") == std::string::npos) return;
  char* converted = nullptr;
  if (idn2_to_unicode_8z8z(out.c_str(), &converted, 0) != IDN2_OK) return;
  out.assign(converted);
  idn2_free(converted);
}

void registrable_domain(std::string_view canonical, std::string& out) {
  out.assign(canonical);  // NUL-terminated for libpsl
  const char* domain = registrable_domain_in(out.c_str());
  if (domain == nullptr) {
    out.clear();
  } else {
    out.erase(0, static_cast<std::size_t>(domain - out.c_str()));
  }
}

std::string registrable_domain(std::string_view canonical) {
  const std::string host(canonical);
  const char* domain = registrable_domain_in(host.c_str());
  return domain != nullptr ? std::string(domain) : std::string();
}

bool is_cccd_province(std::string_view province) {
  if (province.size() != 3 || !std::all_of(province.begin(), province.end(), is_digit)) return false;
  const int code = (province[0] - '0') * 100 + (province[1] - '0') * 10 + (province[2] - '0');
  return std::binary_search(kProvinces.begin(), kProvinces.end(), code);
}

bool detail::obfuscation_at(std::string_view in, std::size_t i) {
  static constexpr std::array<std::string_view, 8> kMarks = {"[.]",   "(.)",   "{.}", "[dot]",
                                                             "(dot)", "{dot}", "[:]", "[/]"};
  switch (in[i]) {
    case ' ':
      return starts_with_ci(in, i, " dot ") && i > 0 && is_alnum(in[i - 1]) && i + 5 < in.size() && is_alnum(in[i + 5]);
    case 'h':
    case 'H': return starts_with_ci(in, i, "hxxp");
    case '[':
    case '(':
    case '{':
      for (const auto mark : kMarks) {
        if (starts_with_ci(in, i, mark)) return true;
      }
      return false;
    default: return false;
  }
}

namespace {

using detail::obfuscation_at;

// What a candidate byte at text[i] means (the SIMD pass only finds bytes that may matter).
void visit(std::string_view t, std::size_t i, Candidates& c) {
  const char b = t[i];
  const auto pos = static_cast<std::uint32_t>(i);
  if (is_digit(b)) {
    if (i > 0 && is_digit(t[i - 1])) return;  // inside a digit run: no start here
    const char prev = i > 0 ? t[i - 1] : ' ';
    if (!is_word_byte(prev)) {
      c.digit_starts.push_back(pos);
      if ((b == '0' || b == '8') && prev != '+') c.phone_starts.push_back(pos);
    }
    // "+84...", "O912...": the number starts one byte earlier.
    if ((prev == '+' || prev == 'O' || prev == 'o') && i > 0 &&
        !(i > 1 && (is_word_byte(t[i - 2]) || t[i - 2] == '+'))) {
      c.phone_starts.push_back(pos - 1);
    }
    return;
  }
  switch (b) {
    case '@': c.ats.push_back(pos); return;
    case '.':
    case ':':
      // Most are sentence punctuation: a mark that ends its token is stripped as trailing
      // punctuation, so it can only matter in a token with an earlier mark, found first.
      if (i + 1 < t.size() && !url_delimiter(t[i + 1])) c.url_marks.push_back(pos);
      return;
    case 'd':
    case 'D':  // " dot "
      if (!c.obfuscated && i > 0) c.obfuscated = obfuscation_at(t, i - 1);
      return;
    case 'x':
    case 'X':  // "hxxp"
      if (!c.obfuscated && i > 0) c.obfuscated = obfuscation_at(t, i - 1);
      return;
    case '[':
    case '(':
    case '{':
      if (!c.obfuscated) c.obfuscated = obfuscation_at(t, i);
      return;
    default: return;
  }
}

// One pass over the text for every finder: 16 bytes at a time, only candidate bytes looked at.
// The CPUs without AVX-512 VBMI run this one (scan_avx512 gives the same output).
void scan_sse2(std::string_view t, Candidates& c) {
  c.url_marks.clear();
  c.ats.clear();
  c.digit_starts.clear();
  c.phone_starts.clear();
  c.obfuscated = false;
  std::size_t i = 0;
#if defined(__SSE2__)
  const auto splat = [](char x) { return _mm_set1_epi8(x); };
  const __m128i below_0 = splat('0' - 1), above_9 = splat('9' + 1);
  const __m128i at = splat('@'), dot = splat('.'), colon = splat(':'), bracket = splat('['), paren = splat('('),
                brace = splat('{'), d = splat('d'), D = splat('D'), x = splat('x'), X = splat('X'), space = splat(' '),
                h = splat('h'), H = splat('H');
  // Byte 0 has no predecessor for the SIMD loop; it is looked at on its own.
  if (!t.empty()) {
    visit(t, 0, c);
    i = 1;
  }
  for (; i + 16 <= t.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + i));
    const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + i - 1));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, below_0), _mm_cmplt_epi8(v, above_9));
    const __m128i prev_digit = _mm_and_si128(_mm_cmpgt_epi8(prev, below_0), _mm_cmplt_epi8(prev, above_9));
    // A digit after a digit starts nothing (see visit): only the first of a run is a candidate.
    __m128i m = _mm_andnot_si128(prev_digit, digit);
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, at), _mm_cmpeq_epi8(v, dot)));
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, bracket)));
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, paren), _mm_cmpeq_epi8(v, brace)));
    // 'd' after a space (" dot "), 'x' after an 'h' ("hxxp").
    const __m128i dd =
        _mm_and_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, D)), _mm_cmpeq_epi8(prev, space));
    const __m128i xx = _mm_and_si128(_mm_or_si128(_mm_cmpeq_epi8(v, x), _mm_cmpeq_epi8(v, X)),
                                     _mm_or_si128(_mm_cmpeq_epi8(prev, h), _mm_cmpeq_epi8(prev, H)));
    m = _mm_or_si128(m, _mm_or_si128(dd, xx));
    for (unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(m)); bits != 0; bits &= bits - 1) {
      visit(t, i + static_cast<std::size_t>(__builtin_ctz(bits)), c);
    }
  }
#endif
  for (; i < t.size(); ++i) visit(t, i, c);
}

void scan(std::string_view t, Candidates& c) {
  detail::scan(t, c, true);
}

}  // namespace

void detail::scan(std::string_view text, Candidates& c, bool allow_simd) {
  if (allow_simd && simd_scan_supported()) {
    scan_avx512(text, c);
  } else {
    scan_sse2(text, c);
  }
}

namespace {

void deobfuscate(std::string_view in, Deobfuscated& out);

// The tokens of `text` around its URL marks, each once. Only a token with a '.' or ':' that
// does not end it can be a link (consider_span returns at once for any other), and those are
// exactly the tokens with a mark.
void tokens_at_marks(std::string_view text, const detail::Positions& marks, const Deobfuscated* rewritten,
                     EntityList& out) {
  std::size_t next = 0;  // tokens before this are done
  for (const std::uint32_t mark : marks) {
    if (mark < next) continue;
    std::size_t i = mark;
    while (i > 0 && !url_delimiter(text[i - 1])) --i;
    std::size_t j = mark + 1;
    while (j < text.size() && !url_delimiter(text[j])) ++j;
    consider_span(text, i, j, rewritten, out);
    next = j;
  }
}

// find_urls over a scanned text.
void urls_in(std::string_view text, const Candidates& cand, EntityList& out) {
  if (!cand.obfuscated) {
    tokens_at_marks(text, cand.url_marks, nullptr, out);
    return;
  }
  // The text with its obfuscations undone ("hxxp", "[.]", " dot "...), then its marks.
  Deobfuscated& clean = scratch().clean;
  deobfuscate(text, clean);  // sizes `clean` itself
  Candidates& clean_candidates = scratch().clean_candidates;
  scan(clean.text, clean_candidates);
  tokens_at_marks(clean.text, clean_candidates.url_marks, &clean, out);
}

// The phone at a find_phones start `i`, if there is one there.
bool phone_at(std::string_view text, std::size_t i, Phone& phone) {
  const bool plus = text[i] == '+';
  const std::size_t from = plus ? i + 1 : i;
  // Read as for "84" and nine digits, then keep ten digits unless it starts with the country code.
  std::uint32_t ends[11];
  DigitRun run = read_digits(text, from, 11, true, ends);
  const bool international = run.size >= 2 && run.digits[0] == '8' && run.digits[1] == '4';
  if (plus && !international) return false;
  if (!international) run = prefix_run(run, ends, 10);
  if (!run_ends_cleanly(text, run)) return false;
  char national[10];
  if (international && run.size == 11) {
    national[0] = '0';
    std::memcpy(national + 1, run.digits + 2, 9);
  } else if (!international && run.size == 10) {
    std::memcpy(national, run.digits, 10);
  } else {
    return false;
  }
  // Letters may stand in for a digit or two, not for most of the number.
  const auto real_digits = std::count_if(text.begin() + static_cast<std::ptrdiff_t>(from),
                                         text.begin() + static_cast<std::ptrdiff_t>(run.end), is_digit);
  if (!valid_mobile(std::string_view(national, 10)) || real_digits < static_cast<std::ptrdiff_t>(run.size) - 2)
    return false;
  std::memcpy(phone.value, "+84", 3);
  std::memcpy(phone.value + 3, national + 1, 9);
  phone.end = run.end;
  return true;
}

void phones_at(std::string_view text, const detail::Positions& starts, EntityList& out) {
  std::size_t next = 0;
  for (const std::uint32_t i : starts) {
    if (i < next) continue;
    Phone phone;
    if (!phone_at(text, i, phone)) continue;
    out.add_unique(EntityType::kPhone, phone.view(), "", i, static_cast<std::uint32_t>(phone.end));
    next = phone.end + 1;
  }
}

void emails_at(std::string_view text, const detail::Positions& ats, EntityList& out) {
  for (const std::size_t at : ats) {
    std::size_t b = at;
    while (b > 0 && has_class(text[b - 1], kLocalChar)) --b;
    std::size_t e = at + 1;
    while (e < text.size() && has_class(text[e], kDomainChar)) ++e;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-')) --e;
    if (b == at || e == at + 1) continue;
    const std::string_view domain = text.substr(at + 1, e - at - 1);
    const auto dot = domain.rfind('.');
    if (dot == std::string_view::npos || !known_suffix(domain.substr(dot + 1))) continue;
    out.add_unique(EntityType::kEmail, lowered("", text.substr(b, e - b)), "", static_cast<std::uint32_t>(b),
                   static_cast<std::uint32_t>(e));
  }
}

// A CCCD/CMND at the digit run `run` (read with at most 13 digits), if it is one.
void citizen_id_at(std::string_view text, const text::Folded& folded, TimestampMs event_time, const DigitRun& run,
                   EntityList& out) {
  if (run.size != 12 && run.size != 9) return;  // (the checks below need one of them)
  if (!run_ends_cleanly(text, run)) return;
  const std::size_t fb = folded_index(folded, run.start), fe = folded_index(folded, run.end);
  if (run.size == 12) {
    const std::string_view d = run.view();
    const int century_digit = d[3] - '0';
    const int birth = 1900 + (century_digit / 2) * 100 + (d[4] - '0') * 10 + (d[5] - '0');
    const int now = event_time > 0 ? year_of(event_time) : 9999;
    const bool plausible = century_digit <= 5 && birth <= now && (event_time <= 0 || now - birth <= 120);
    if (is_cccd_province(d.substr(0, 3)) && plausible && near_words(folded, fb, fe, 150, 40, kCccdWords)) {
      out.add_unique(EntityType::kCitizenId, d, "cccd", static_cast<std::uint32_t>(run.start),
                     static_cast<std::uint32_t>(run.end));
    }
  } else if (near_words(folded, fb, fe, 150, 40, kCmndWords)) {
    out.add_unique(EntityType::kCitizenId, run.view(), "cmnd", static_cast<std::uint32_t>(run.start),
                   static_cast<std::uint32_t>(run.end));
  }
}

// The bank name for a bank account at the digit run `run` (read with at most 20 digits); false
// when it is none.
bool bank_account_at(std::string_view text, const text::Folded& folded, const DigitRun& run, std::string_view& bank) {
  if (run.size < 6 || run.size > 19 || !run_ends_cleanly(text, run)) return false;
  const std::size_t fb = folded_index(folded, run.start), fe = folded_index(folded, run.end);
  const bool keyword = near_words(folded, fb, fe, 25, 0, kAccountWords);
  bank = nearest_bank(folded, fb, fe, keyword ? 60 : 20);
  return keyword || !bank.empty();
}

// Whether the run read_digits (without letters) reads at the digit text[i] has fewer than 6
// digits, the fewest either digit finder accepts, told from the digits before the first other
// byte: most digit runs in posts are one or two digits (times, counts, "50k"), and reading each
// into a DigitRun was most of the digit finders' time.
bool short_digit_run(std::string_view text, std::size_t i) {
  std::size_t j = i;
  while (j < text.size() && j - i < 6 && is_digit(text[j])) ++j;
  if (j - i >= 6) return false;
  if (j >= text.size()) return true;
  // A separator followed by a digit continues the run (as read_digits reads it).
  const char c = text[j];
  return !((c == ' ' || c == '.' || c == '-') && j + 1 < text.size() && is_digit(text[j + 1]));
}

// Citizen IDs, then bank accounts, at the digit starts (each finder skips the starts inside
// the last run it read). One read of up to 20 digits per start serves both: the ID finder's
// 13-digit run is its prefix. The accounts are added after all IDs, in their own order.
void digit_entities_at(std::string_view text, const text::Folded& folded, TimestampMs event_time,
                       const detail::Positions& starts, bool ids, bool accounts, std::vector<BankAccount>& found,
                       EntityList& out) {
  found.clear();
  std::size_t next_id = ids ? 0 : SIZE_MAX, next_account = accounts ? 0 : SIZE_MAX;
  std::uint32_t ends[20];
  for (const std::size_t i : starts) {
    const bool id = i >= next_id, account = i >= next_account;
    // A short run is no ID and no account, and neither is a start inside it (a shorter run), so
    // it can be passed over without moving next_id / next_account past it.
    if ((!id && !account) || short_digit_run(text, i)) continue;
    const DigitRun run = read_digits(text, i, account ? 20 : 13, false, ends);
    if (id) {
      const DigitRun id_run = prefix_run(run, ends, 13);
      next_id = id_run.end + 1;
      citizen_id_at(text, folded, event_time, id_run, out);
    }
    if (account) {
      next_account = run.end + 1;
      std::string_view bank;
      if (bank_account_at(text, folded, run, bank)) found.push_back({run, bank});
    }
  }
  for (const BankAccount& a : found) {
    out.add_unique(EntityType::kBankAccount, a.run.view(), a.bank, static_cast<std::uint32_t>(a.run.start),
                   static_cast<std::uint32_t>(a.run.end));
  }
}

void handles_at(std::string_view text, const text::Folded& folded, const detail::Positions& ats, EntityList& out) {
  for (const std::size_t at : ats) {
    if (at > 0 && (is_word_byte(text[at - 1]) || text[at - 1] == '.' || text[at - 1] == '_')) continue;  // e-mail
    std::size_t e = at + 1;
    while (e < text.size() && (is_alnum(text[e]) || text[e] == '_')) ++e;
    const std::string_view name = text.substr(at + 1, e - at - 1);
    if (!valid_handle_name(name) ||
        (e < text.size() && text[e] == '.' && e + 1 < text.size() && is_alnum(text[e + 1]))) {
      continue;
    }
    const std::size_t fb = folded_index(folded, at), fe = folded_index(folded, e);
    const bool telegram = near_words(folded, fb, fe, 60, 20, kTelegramWords);
    out.add_unique(EntityType::kHandle, lowered("@", name), telegram ? "telegram" : "", static_cast<std::uint32_t>(at),
                   static_cast<std::uint32_t>(e));
  }
}

}  // namespace

Entity& EntityList::add(EntityType type, std::string_view value, std::string_view qualifier, std::uint32_t start,
                        std::uint32_t end) {
  if (size_ == items_.size()) {
    // The strings are made before the vector grows: value may point into one of its entities.
    items_.push_back(Entity{type, std::string(value), std::string(qualifier), start, end});
    return items_[size_++];
  }
  Entity& e = items_[size_++];
  e.type = type;
  e.value.assign(value);
  e.qualifier.assign(qualifier);
  e.start = start;
  e.end = end;
  return e;
}

bool EntityList::contains(EntityType type, std::string_view value) const {
  return std::any_of(begin(), end(), [&](const Entity& e) { return e.type == type && e.value == value; });
}

bool EntityList::add_unique(EntityType type, std::string_view value, std::string_view qualifier, std::uint32_t start,
                            std::uint32_t end) {
  if (contains(type, value)) return false;
  add(type, value, qualifier, start, end);
  return true;
}

void find_urls(std::string_view text, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  urls_in(text, c, out);
}

void add_url(std::string_view url, EntityList& out) {
  UrlBuffers& c = scratch().url;
  if (canonicalize_url(url, c)) add_canonical(c, 0, 0, out);
}

void find_phones(std::string_view text, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  phones_at(text, c.phone_starts, out);
}

void find_emails(std::string_view text, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  emails_at(text, c.ats, out);
}

void find_citizen_ids(std::string_view text, const text::Folded& folded, TimestampMs event_time, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  digit_entities_at(text, folded, event_time, c.digit_starts, true, false, scratch().accounts, out);
}

void find_bank_accounts(std::string_view text, const text::Folded& folded, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  digit_entities_at(text, folded, 0, c.digit_starts, false, true, scratch().accounts, out);
}

void find_handles(std::string_view text, const text::Folded& folded, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);
  handles_at(text, folded, c.ats, out);
}

void extract_all(std::string_view text, const text::Folded& folded, TimestampMs event_time, EntityList& out) {
  Candidates& c = scratch().candidates;
  scan(text, c);  // one pass finds where each finder has to look
  urls_in(text, c, out);
  emails_at(text, c.ats, out);
  digit_entities_at(text, folded, event_time, c.digit_starts, true, true, scratch().accounts, out);
  handles_at(text, folded, c.ats, out);
  const std::size_t before_phones = out.size();
  phones_at(text, c.phone_starts, out);
  // A number written as an account ("STK 0912345678", MB accepts phone numbers as accounts)
  // is reported as the account, not a second time as a phone.
  out.remove_from(before_phones, [&](const Entity& phone) {
    return std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(before_phones), [&](const Entity& e) {
      return e.type == EntityType::kBankAccount && e.in_text() && e.start < phone.end && phone.start < e.end;
    });
  });
}

}  // namespace vigil::extract
