#include "common/extract/extract.h"

#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/extract/url.h"

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

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
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

void add_unique(std::vector<Entity>& out, Entity e) {
  for (const auto& existing : out) {
    if (existing.type == e.type && existing.value == e.value) return;
  }
  out.push_back(std::move(e));
}

bool known_suffix(std::string_view tld) {
  if (tld.empty() || !std::all_of(tld.begin(), tld.end(),
                                  [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '-'; })) {
    return false;
  }
  std::string lowered(tld);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return psl_is_public_suffix2(psl(), lowered.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

// ---- folded-text context -----------------------------------------------------------------

std::size_t folded_index(const text::Folded& folded, std::size_t byte) {
  return static_cast<std::size_t>(std::lower_bound(folded.origin.begin(), folded.origin.end(), byte) -
                                  folded.origin.begin());
}

// Whether one of `words` occurs as whole words in folded.text within `before` bytes before
// `begin` or `after` bytes after `end` (folded positions).
bool near_words(const text::Folded& folded, std::size_t begin, std::size_t end, std::size_t before, std::size_t after,
                std::initializer_list<std::string_view> words) {
  const std::string_view t(folded.text);
  const std::size_t lo = begin > before ? begin - before : 0;
  const std::size_t hi = std::min(t.size(), end + after);
  if (lo >= hi) return false;
  // Search only the window: a find() over the rest of the post per digit run is quadratic.
  const std::string_view window = t.substr(lo, hi - lo);
  for (const auto w : words) {
    for (std::size_t rel = window.find(w); rel != std::string_view::npos; rel = window.find(w, rel + 1)) {
      const std::size_t pos = lo + rel, e = pos + w.size();
      if (pos < end && e > begin) continue;  // inside the value itself
      const bool left = pos == 0 || !is_word_byte(t[pos - 1]);
      const bool right = e == t.size() || !is_word_byte(t[e]);
      if (left && right) return true;
    }
  }
  return false;
}

// ---- URLs ------------------------------------------------------------------------------------

// A copy of the text with URL obfuscations undone, and where each byte came from.
struct Deobfuscated {
  std::string text;
  std::vector<std::uint32_t> origin;  // one per byte of text, plus the input size

  void put(char c, std::size_t from) {
    text.push_back(c);
    origin.push_back(static_cast<std::uint32_t>(from));
  }
};

void deobfuscate(std::string_view in, Deobfuscated& out) {
  static constexpr std::array<std::string_view, 6> kDots = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"};
  std::size_t i = 0;
  while (i < in.size()) {
    // Every pattern starts with one of these bytes; most bytes are copied straight away.
    const char b = in[i];
    if (b != 'h' && b != 'H' && b != '[' && b != '(' && b != '{' && b != ' ') {
      out.put(b, i);
      ++i;
      continue;
    }
    if (b == ' ') {
      if (starts_with_ci(in, i, " dot ") && i > 0 && is_alnum(in[i - 1]) && i + 5 < in.size() && is_alnum(in[i + 5])) {
        out.put('.', i);
        i += 5;
      } else {
        out.put(b, i);
        ++i;
      }
      continue;
    }
    if (starts_with_ci(in, i, "hxxps")) {
      for (char c : std::string_view("https")) out.put(c, i);
      i += 5;
      continue;
    }
    if (starts_with_ci(in, i, "hxxp")) {
      for (char c : std::string_view("http")) out.put(c, i);
      i += 4;
      continue;
    }
    bool replaced = false;
    for (const auto pattern : kDots) {
      if (starts_with_ci(in, i, pattern)) {
        // "example [.] com" -> "example.com": drop the spaces around a bracketed dot.
        while (!out.text.empty() && out.text.back() == ' ') {
          out.text.pop_back();
          out.origin.pop_back();
        }
        out.put('.', i);
        i += pattern.size();
        while (i < in.size() && in[i] == ' ') ++i;
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    if (starts_with_ci(in, i, "[:]") || starts_with_ci(in, i, "[/]")) {
      out.put(in[i + 1], i);
      i += 3;
      continue;
    }
    out.put(in[i], i);
    ++i;
  }
  out.origin.push_back(static_cast<std::uint32_t>(in.size()));
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

bool url_delimiter(unsigned char c) {
  return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' ||
         c == '{' || c == '}' || c == '|' || c == '`' || c == ',';
}

bool valid_handle_name(std::string_view name) {
  if (name.size() < 5 || name.size() > 32 || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Adds the URL, its domain, and what a few well-known hosts say about people behind them.
void add_canonical(const CanonicalUrl& c, std::uint32_t start, std::uint32_t end, std::vector<Entity>& out) {
  std::string domain = normalize_ipv4(c.host) ? c.host : registrable_domain(c.host);
  add_unique(out, Entity{EntityType::kUrl, c.url, "", start, end});
  if (!domain.empty()) add_unique(out, Entity{EntityType::kDomain, domain, "", start, end});
  const std::string_view path = std::string_view(c.url).substr(c.url.find('/', c.url.find("://") + 3) + 1);
  const std::string_view first_segment = path.substr(0, std::min(path.find_first_of("/?"), path.size()));
  if ((c.host == "t.me" || c.host == "telegram.me") && valid_handle_name(first_segment) &&
      first_segment != "joinchat") {
    add_unique(out, Entity{EntityType::kHandle, "@" + lower(first_segment), "telegram", start, end});
  }
  if (c.host == "zalo.me") {
    std::vector<Entity> phones;
    find_phones(first_segment, phones);
    for (auto& p : phones) add_unique(out, Entity{EntityType::kPhone, p.value, "zalo", start, end});
  }
}

void consider_token(std::string_view token, std::uint32_t start, std::uint32_t end, std::vector<Entity>& out) {
  const bool has_scheme = starts_with_ci(token, 0, "http://") || starts_with_ci(token, 0, "https://");
  if (!has_scheme) {
    const std::size_t host_end = std::min(token.find_first_of("/?#:"), token.size());
    const std::string_view host = token.substr(0, host_end);
    if (host.find('@') != std::string_view::npos) return;  // an e-mail address
    const auto last_dot = host.rfind('.');
    if (last_dot == std::string_view::npos || last_dot == 0) return;
    const bool ip = host.find_first_not_of("0123456789.") == std::string_view::npos &&
                    std::count(host.begin(), host.end(), '.') == 3 && normalize_ipv4(host).has_value();
    if (!ip && !known_suffix(host.substr(last_dot + 1))) return;
  }
  const auto c = canonicalize_url(token);
  if (!c) return;
  if (!has_scheme && !normalize_ipv4(c->host) && registrable_domain(c->host).empty()) return;
  add_canonical(*c, start, end, out);
}

// "http://3279880203/x", "https://0xC37F000B": an IPv4 address written as one number, which
// browsers open like the dotted form. Other hosts without a dot are not links.
bool dotless_ip_url(std::string_view token) {
  const bool has_scheme = starts_with_ci(token, 0, "http://") || starts_with_ci(token, 0, "https://");
  if (!has_scheme) return false;
  token.remove_prefix(token.find("://") + 3);
  const std::string_view host = token.substr(0, std::min(token.find_first_of("/?#:"), token.size()));
  return !host.empty() && normalize_ipv4(host).has_value();
}

// ---- digit runs ------------------------------------------------------------------------------

struct DigitRun {
  std::string digits;
  std::size_t start = 0;
  std::size_t end = 0;  // one past the last digit
};

// Digits from `pos`, allowing one separator (space, dot, dash) between digits; stops after
// `max_digits`. Letters for digits (O/o -> 0, l/I -> 1) only when `letters` is set and a real
// digit is next to them.
DigitRun read_digits(std::string_view text, std::size_t pos, std::size_t max_digits, bool letters) {
  DigitRun run;
  run.start = pos;
  std::size_t i = pos;
  while (i < text.size() && run.digits.size() < max_digits) {
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
      run.digits.push_back(digit);
      run.end = ++i;
      continue;
    }
    if ((c == ' ' || c == '.' || c == '-') && !run.digits.empty() && i + 1 < text.size() &&
        (is_digit(text[i + 1]) || (letters && i + 2 < text.size() && is_digit(text[i + 2])))) {
      ++i;
      continue;
    }
    break;
  }
  return run;
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

// The bank named nearest to folded position [begin, end), within `window` bytes; empty if none.
std::string_view nearest_bank(const text::Folded& folded, std::size_t begin, std::size_t end, std::size_t window) {
  const std::string_view t(folded.text);
  std::string_view best;
  std::size_t best_distance = window + 1;
  const std::size_t lo = begin > window ? begin - window : 0;
  const std::size_t hi = std::min(t.size(), end + window);
  if (lo >= hi) return best;
  const std::string_view nearby = t.substr(lo, hi - lo);
  for (const auto& bank : kBanks) {
    for (std::size_t rel = nearby.find(bank.folded); rel != std::string_view::npos;
         rel = nearby.find(bank.folded, rel + 1)) {
      const std::size_t pos = lo + rel, e = pos + bank.folded.size();
      if ((pos > 0 && is_word_byte(t[pos - 1])) || (e < t.size() && is_word_byte(t[e]))) continue;
      const std::size_t distance = e <= begin ? begin - e : pos >= end ? pos - end : 0;
      if (distance < best_distance) {
        best_distance = distance;
        best = bank.name;
      }
    }
  }
  return best;
}

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
  return url.substr(0, std::min(url.find_first_of("/?"), url.size()));
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

std::string registrable_domain(std::string_view canonical) {
  const std::string host(canonical);
  const char* domain = psl_registrable_domain(psl(), host.c_str());
  return domain != nullptr ? std::string(domain) : std::string();
}

bool is_cccd_province(std::string_view province) {
  if (province.size() != 3 || !std::all_of(province.begin(), province.end(), is_digit)) return false;
  const int code = (province[0] - '0') * 100 + (province[1] - '0') * 10 + (province[2] - '0');
  return std::binary_search(kProvinces.begin(), kProvinces.end(), code);
}

// Whether the text may hold an obfuscated URL at all; most posts do not, and then the text is
// scanned as it is, without a rewritten copy.
bool maybe_obfuscated(std::string_view text) {
  // One pass; a handful of small find() calls per post cost more than the scan itself.
  for (std::size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '[':
      case '(':
      case '{': return true;
      case 'x':
      case 'X':
        if (i > 0 && i + 1 < text.size() && ascii_lower(text[i - 1]) == 'h' && ascii_lower(text[i + 1]) == 'x')
          return true;
        break;
      case ' ':
        if (starts_with_ci(text, i, " dot ")) return true;
        break;
      default: break;
    }
  }
  return false;
}

bool trailing_punctuation(char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?';
}

void find_urls(std::string_view text, std::vector<Entity>& out) {
  thread_local Deobfuscated clean;
  clean.text.clear();
  clean.origin.clear();
  const bool rewritten = maybe_obfuscated(text);
  if (rewritten) deobfuscate(text, clean);
  const std::string_view t = rewritten ? std::string_view(clean.text) : text;
  auto origin = [&](std::size_t i) { return rewritten ? clean.origin[i] : static_cast<std::uint32_t>(i); };
  std::size_t i = 0;
  while (i < t.size()) {
    while (i < t.size() && url_delimiter(static_cast<unsigned char>(t[i]))) ++i;
    std::size_t j = i;
    while (j < t.size() && !url_delimiter(static_cast<unsigned char>(t[j]))) ++j;
    std::string_view token = t.substr(i, j - i);
    while (!token.empty() && std::string_view(".,;:!?").find(token.back()) != std::string_view::npos)
      token.remove_suffix(1);
    if (token.find('.') != std::string_view::npos || dotless_ip_url(token)) {
      consider_token(token, origin(i), origin(i + token.size()), out);
    }
    i = j;
  }
}

void add_url(std::string_view url, std::vector<Entity>& out) {
  if (const auto c = canonicalize_url(url)) add_canonical(*c, 0, 0, out);
}

void find_phones(std::string_view text, std::vector<Entity>& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // A leading O for the 0 ("O912...") counts when a digit follows.
    const bool letter_zero = (c == 'O' || c == 'o') && i + 1 < text.size() && is_digit(text[i + 1]);
    if (c != '+' && c != '0' && c != '8' && !letter_zero) continue;
    if (i > 0 && (is_word_byte(text[i - 1]) || text[i - 1] == '+')) continue;
    const bool plus = c == '+';
    const std::size_t from = plus ? i + 1 : i;
    if (from >= text.size() || !(is_digit(text[from]) || letter_zero)) continue;
    // Peek at the country code to know how many digits to take.
    DigitRun run = read_digits(text, from, 2, true);
    const bool international = run.digits == "84";
    if (plus && !international) continue;
    run = read_digits(text, from, international ? 11 : 10, true);
    if (!run_ends_cleanly(text, run)) continue;
    std::string national;
    if (international && run.digits.size() == 11) {
      national = "0" + run.digits.substr(2);
    } else if (!international && run.digits.size() == 10) {
      national = run.digits;
    }
    // Letters may stand in for a digit or two, not for most of the number.
    const auto real_digits = std::count_if(text.begin() + static_cast<std::ptrdiff_t>(from),
                                           text.begin() + static_cast<std::ptrdiff_t>(run.end), is_digit);
    if (!valid_mobile(national) || real_digits < static_cast<std::ptrdiff_t>(run.digits.size()) - 2) continue;
    add_unique(out, Entity{EntityType::kPhone, "+84" + national.substr(1), "", static_cast<std::uint32_t>(i),
                           static_cast<std::uint32_t>(run.end)});
    i = run.end;
  }
}

void find_emails(std::string_view text, std::vector<Entity>& out) {
  auto local_char = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; };
  auto domain_char = [](char c) { return is_alnum(c) || c == '.' || c == '-'; };
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    std::size_t b = at;
    while (b > 0 && local_char(text[b - 1])) --b;
    std::size_t e = at + 1;
    while (e < text.size() && domain_char(text[e])) ++e;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-')) --e;
    if (b == at || e == at + 1) continue;
    const std::string_view domain = text.substr(at + 1, e - at - 1);
    const auto dot = domain.rfind('.');
    if (dot == std::string_view::npos || !known_suffix(domain.substr(dot + 1))) continue;
    add_unique(out, Entity{EntityType::kEmail, lower(text.substr(b, e - b)), "", static_cast<std::uint32_t>(b),
                           static_cast<std::uint32_t>(e)});
  }
}

void find_citizen_ids(std::string_view text, const text::Folded& folded, TimestampMs event_time,
                      std::vector<Entity>& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i]) || (i > 0 && is_word_byte(text[i - 1]))) continue;
    const DigitRun run = read_digits(text, i, 13, false);
    if (!run_ends_cleanly(text, run)) {
      i = run.end;
      continue;
    }
    const std::size_t fb = folded_index(folded, run.start), fe = folded_index(folded, run.end);
    if (run.digits.size() == 12) {
      const std::string& d = run.digits;
      const int century_digit = d[3] - '0';
      const int birth = 1900 + (century_digit / 2) * 100 + (d[4] - '0') * 10 + (d[5] - '0');
      const int now = event_time > 0 ? year_of(event_time) : 9999;
      const bool plausible = century_digit <= 5 && birth <= now && (event_time <= 0 || now - birth <= 120);
      if (is_cccd_province(d.substr(0, 3)) && plausible &&
          near_words(
              folded, fb, fe, 150, 40,
              {"cccd", "can cuoc", "cmnd", "cmt", "chung minh", "dinh danh", "so id", "the can cuoc", "id card"})) {
        add_unique(out, Entity{EntityType::kCitizenId, d, "cccd", static_cast<std::uint32_t>(run.start),
                               static_cast<std::uint32_t>(run.end)});
      }
    } else if (run.digits.size() == 9 && near_words(folded, fb, fe, 150, 40, {"cmnd", "cmt", "chung minh"})) {
      add_unique(out, Entity{EntityType::kCitizenId, run.digits, "cmnd", static_cast<std::uint32_t>(run.start),
                             static_cast<std::uint32_t>(run.end)});
    }
    i = run.end;
  }
}

void find_bank_accounts(std::string_view text, const text::Folded& folded, std::vector<Entity>& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i]) || (i > 0 && is_word_byte(text[i - 1]))) continue;
    const DigitRun run = read_digits(text, i, 20, false);
    i = run.end;
    if (run.digits.size() < 6 || run.digits.size() > 19 || !run_ends_cleanly(text, run)) continue;
    const std::size_t fb = folded_index(folded, run.start), fe = folded_index(folded, run.end);
    const bool keyword =
        near_words(folded, fb, fe, 25, 0, {"stk", "so tk", "so tai khoan", "tai khoan", "tk", "account", "acc"});
    const std::string_view bank = nearest_bank(folded, fb, fe, keyword ? 60 : 20);
    if (!keyword && bank.empty()) continue;
    add_unique(out, Entity{EntityType::kBankAccount, run.digits, std::string(bank),
                           static_cast<std::uint32_t>(run.start), static_cast<std::uint32_t>(run.end)});
  }
}

void find_handles(std::string_view text, const text::Folded& folded, std::vector<Entity>& out) {
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    if (at > 0 && (is_word_byte(text[at - 1]) || text[at - 1] == '.' || text[at - 1] == '_')) continue;  // e-mail
    std::size_t e = at + 1;
    while (e < text.size() && (is_alnum(text[e]) || text[e] == '_')) ++e;
    const std::string_view name = text.substr(at + 1, e - at - 1);
    if (!valid_handle_name(name) ||
        (e < text.size() && text[e] == '.' && e + 1 < text.size() && is_alnum(text[e + 1]))) {
      continue;
    }
    const std::size_t fb = folded_index(folded, at), fe = folded_index(folded, e);
    const bool telegram = near_words(folded, fb, fe, 60, 20, {"telegram", "tele", "tg", "tl"});
    add_unique(out, Entity{EntityType::kHandle, "@" + lower(name), telegram ? "telegram" : "",
                           static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(e)});
  }
}

void extract_all(std::string_view text, const text::Folded& folded, TimestampMs event_time, std::vector<Entity>& out) {
  find_urls(text, out);
  find_emails(text, out);
  find_citizen_ids(text, folded, event_time, out);
  find_bank_accounts(text, folded, out);
  find_handles(text, folded, out);
  const std::size_t before_phones = out.size();
  find_phones(text, out);
  // A number written as an account ("STK 0912345678", MB accepts phone numbers as accounts)
  // is reported as the account, not a second time as a phone.
  out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(before_phones), out.end(),
                           [&](const Entity& phone) {
                             return std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(before_phones),
                                                [&](const Entity& e) {
                                                  return e.type == EntityType::kBankAccount && e.in_text() &&
                                                         e.start < phone.end && phone.start < e.end;
                                                });
                           }),
            out.end());
}

}  // namespace vigil::extract
