#include "common/extract/url.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

#include "common/extract/extract.h"

namespace vigil::extract {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One pass of percent-decoding; returns false when nothing was decoded.
bool unescape_once(std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool changed = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
      changed = true;
    } else {
      out.push_back(s[i]);
    }
  }
  s.swap(out);
  return changed;
}

void escape_into(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

bool parse_ipv4_part(std::string_view p, std::uint64_t& v) {
  if (p.empty()) return false;
  int base = 10;
  if (p.size() > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p.remove_prefix(2);
    if (p.empty()) {
      v = 0;
      return true;
    }
  } else if (p.size() > 1 && p[0] == '0') {
    base = 8;
    p.remove_prefix(1);
  }
  v = 0;
  for (char c : p) {
    const int d = hex_value(c);
    if (d < 0 || d >= base) return false;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
    if (v > 0xffffffffULL) return false;
  }
  return true;
}

std::string resolve_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t i = 0;
  const bool trailing_slash = !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  while (i < path.size()) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    const std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  std::string out = "/";
  for (std::size_t k = 0; k < segments.size(); ++k) {
    out.append(segments[k]);
    if (k + 1 < segments.size() || trailing_slash) out.push_back('/');
  }
  return out;
}

}  // namespace

std::optional<std::string> normalize_ipv4(std::string_view host) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (true) {
    const std::size_t j = std::min(host.find('.', i), host.size());
    parts.push_back(host.substr(i, j - i));
    if (j == host.size()) break;
    i = j + 1;
  }
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  std::vector<std::uint64_t> values;
  for (const auto p : parts) {
    std::uint64_t v = 0;
    if (!parse_ipv4_part(p, v)) return std::nullopt;
    values.push_back(v);
  }
  // inet_aton: every part but the last is one byte; the last fills the remaining bytes.
  std::uint64_t address = 0;
  for (std::size_t k = 0; k + 1 < values.size(); ++k) {
    if (values[k] > 255) return std::nullopt;
    address |= values[k] << (8 * (3 - k));
  }
  const std::size_t remaining_bytes = 4 - (values.size() - 1);
  if (remaining_bytes < 4 && values.back() >= (1ULL << (8 * remaining_bytes))) return std::nullopt;
  address |= values.back();
  return std::to_string((address >> 24) & 255) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

std::string canonicalize_host(std::string_view raw) {
  std::string host;
  for (char c : raw) {
    if (c == '.' && (host.empty() || host.back() == '.')) continue;
    host.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return host;
  if (auto ip = normalize_ipv4(host)) {
    host = *ip;
  } else if (std::any_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    if (std::string ascii = canonical_host(host); !ascii.empty()) host = std::move(ascii);
  }
  return host;
}

std::optional<CanonicalUrl> canonicalize_url(std::string_view raw) {
  std::string s;
  s.reserve(raw.size());
  for (char c : raw) {
    if (c != '\t' && c != '\r' && c != '\n') s.push_back(c);
  }
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  s = s.substr(first, s.find_last_not_of(' ') - first + 1);
  if (const auto hash = s.find('#'); hash != std::string::npos) s.resize(hash);
  for (int round = 0; round < 16 && unescape_once(s); ++round) {
  }

  std::string scheme = "http";
  std::string_view rest(s);
  if (const auto sep = rest.find("://");
      sep != std::string_view::npos && sep > 0 &&
      std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(sep),
                  [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; })) {
    scheme.assign(rest.substr(0, sep));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rest.remove_prefix(sep + 3);
  }
  const std::size_t host_end = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view host_part = rest.substr(0, host_end);
  std::string_view path_and_query = rest.substr(host_end);
  if (const auto at = host_part.rfind('@'); at != std::string_view::npos) host_part.remove_prefix(at + 1);
  if (const auto colon = host_part.rfind(':'); colon != std::string_view::npos) host_part = host_part.substr(0, colon);

  const std::string host = canonicalize_host(host_part);
  if (host.empty()) return std::nullopt;

  std::string_view path = path_and_query;
  std::string_view query;
  bool has_query = false;
  if (const auto q = path_and_query.find('?'); q != std::string_view::npos) {
    path = path_and_query.substr(0, q);
    query = path_and_query.substr(q + 1);
    has_query = true;
  }
  CanonicalUrl out;
  escape_into(out.host, host);
  out.url = scheme + "://" + out.host;
  escape_into(out.url, resolve_path(path));
  if (has_query) {
    out.url.push_back('?');
    escape_into(out.url, query);
  }
  return out;
}

}  // namespace vigil::extract
