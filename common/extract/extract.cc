#include "common/extract/extract.h"

#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <cctype>

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

bool is_ascii_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool is_space_or_delim(unsigned char c) {
  return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' ||
         c == '{' || c == '}' || c == '|' || c == '`' || c == ',';
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool is_ipv4(std::string_view host) {
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

void add_unique(std::vector<Entity>& out, Entity e) {
  for (const auto& existing : out) {
    if (existing.type == e.type && existing.value == e.value) return;
  }
  out.push_back(std::move(e));
}

// Splits "scheme://host/rest" or "host/rest" and canonicalises. Returns false if there is no
// plausible host.
bool canonical_url(std::string_view token, bool need_known_suffix, std::string& url, std::string& host) {
  std::string scheme = "http";
  if (starts_with_ci(token, "https://")) {
    scheme = "https";
    token.remove_prefix(8);
  } else if (starts_with_ci(token, "http://")) {
    token.remove_prefix(7);
  }
  const std::size_t host_end = std::min(token.find_first_of("/?#"), token.size());
  std::string_view raw_host = token.substr(0, host_end);
  if (const auto at = raw_host.rfind('@'); at != std::string_view::npos) raw_host.remove_prefix(at + 1);
  if (const auto colon = raw_host.rfind(':'); colon != std::string_view::npos) raw_host = raw_host.substr(0, colon);
  host = canonical_host(raw_host);
  if (host.empty() || host.find('.') == std::string::npos) return false;
  if (need_known_suffix && !is_ipv4(host)) {
    const auto last_dot = host.rfind('.');
    const std::string tld = host.substr(last_dot + 1);
    if (tld.empty() || !std::all_of(tld.begin(), tld.end(),
                                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '-'; })) {
      return false;
    }
    if (psl_is_public_suffix2(psl(), tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) == 0) return false;
    if (registrable_domain(host).empty()) return false;
  }
  std::string path(token.substr(host_end));
  if (path.empty()) path = "/";
  url = scheme + "://" + host + path;
  return true;
}

void add_url_entities(std::string_view token, bool need_known_suffix, std::uint32_t start, std::uint32_t end,
                      std::vector<Entity>& out) {
  std::string url;
  std::string host;
  if (!canonical_url(token, need_known_suffix, url, host)) return;
  add_unique(out, Entity{EntityType::kUrl, url, start, end});
  std::string domain = is_ipv4(host) ? host : registrable_domain(host);
  if (!domain.empty()) add_unique(out, Entity{EntityType::kDomain, std::move(domain), start, end});
}

}  // namespace

std::string_view entity_type_name(EntityType t) {
  switch (t) {
    case EntityType::kUrl: return "url";
    case EntityType::kDomain: return "domain";
    case EntityType::kPhone: return "phone";
    case EntityType::kAccount: return "account";
  }
  return "unknown";
}

bool is_personal(EntityType t) {
  return t == EntityType::kPhone || t == EntityType::kAccount;
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
      if (!is_ascii_alnum(c) && c != '-' && c != '.' && c != '_') return {};
    }
  }
  if (ascii) return lowered;
  char* converted = nullptr;
  if (idn2_to_ascii_8z(lowered.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
    return {};
  }
  std::string result(converted);
  idn2_free(converted);
  return result;
}

std::string_view url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  return url.substr(0, std::min(url.find('/'), url.size()));
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

void find_urls(std::string_view text, std::vector<Entity>& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space_or_delim(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !is_space_or_delim(static_cast<unsigned char>(text[j]))) ++j;
    std::string_view token = text.substr(i, j - i);
    while (!token.empty() && std::string_view(".,;:!?").find(token.back()) != std::string_view::npos) {
      token.remove_suffix(1);
    }
    if (token.find('.') != std::string_view::npos) {
      const bool has_scheme = starts_with_ci(token, "http://") || starts_with_ci(token, "https://");
      add_url_entities(token, !has_scheme, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + token.size()),
                       out);
    }
    i = j;
  }
}

void add_url(std::string_view url, std::vector<Entity>& out) {
  add_url_entities(url, false, 0, 0, out);
}

void find_phones(std::string_view text, std::vector<Entity>& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool plus = text[i] == '+';
    if (!plus && !std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    if (i > 0 && (is_ascii_alnum(text[i - 1]) || text[i - 1] == '+')) continue;
    std::string digits;
    std::size_t j = plus ? i + 1 : i;
    std::size_t last_digit_end = j;
    while (j < text.size() && digits.size() < 12) {
      const char c = text[j];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        digits.push_back(c);
        last_digit_end = ++j;
      } else if ((c == ' ' || c == '.' || c == '-') && j + 1 < text.size() &&
                 std::isdigit(static_cast<unsigned char>(text[j + 1]))) {
        ++j;
      } else {
        break;
      }
    }
    if (last_digit_end < text.size() && is_ascii_alnum(text[last_digit_end])) continue;
    std::string national;
    if (digits.size() == 11 && digits.compare(0, 2, "84") == 0) {
      national = "0" + digits.substr(2);
    } else if (!plus && digits.size() == 10 && digits[0] == '0') {
      national = digits;
    }
    if (national.size() == 10 && std::string_view("35789").find(national[1]) != std::string_view::npos) {
      add_unique(out, Entity{EntityType::kPhone, national, static_cast<std::uint32_t>(i),
                             static_cast<std::uint32_t>(last_digit_end)});
      i = last_digit_end;
    }
  }
}

}  // namespace vigil::extract
