#include "common/extract/url.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>

#include "common/extract/byte_set.h"
#include "common/extract/extract.h"
#include "common/extract/memo.h"

namespace vigil::extract {
namespace {

constexpr detail::ByteSet kLineBreaks("\t\r\n");  // removed from URLs before anything else
constexpr detail::ByteSet kPathEnd("/?");         // ends the host part

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  if (in.find('%') == std::string_view::npos) {  // most URLs: one memchr instead of a byte loop
    out.assign(in);
    return false;
  }
  out.clear();
  bool changed = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
      changed = true;
    } else {
      out.push_back(in[i]);
    }
  }
  return changed;
}

namespace {

bool needs_escape(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || c == '#' || c == '%';
}

void escape_into(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Canonical input has nothing to escape: append it at once.
  if (std::none_of(s.begin(), s.end(), [](char c) { return needs_escape(static_cast<unsigned char>(c)); })) {
    out.append(s);
    return;
  }
  for (unsigned char c : s) {
    if (needs_escape(c)) {
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

// The path with "." and ".." resolved and empty segments dropped, into `out`; a trailing slash
// (also after a final "." or "..") is kept.
void resolve_path(std::string_view path, std::string& out) {
  const bool trailing_slash = !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  out.assign(1, '/');
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    const std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (out.size() > 1) out.resize(out.rfind('/', out.size() - 2) + 1);
    } else if (!seg.empty() && seg != ".") {
      out.append(seg);
      out.push_back('/');
    }
    i = j + 1;
  }
  if (!trailing_slash && out.size() > 1) out.pop_back();
}

void append_decimal(std::string& out, unsigned v) {
  char buf[4];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

void append_ipv4(std::string& out, std::uint32_t address) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    append_decimal(out, (address >> shift) & 255);
    if (shift != 0) out.push_back('.');
  }
}

}  // namespace

std::optional<std::uint32_t> parse_ipv4(std::string_view host) {
  // Every part of every notation starts with a digit (decimal, 0x..., 0...): most hosts are
  // names and stop here.
  if (host.empty() || host[0] < '0' || host[0] > '9') return std::nullopt;
  std::uint64_t values[4];
  std::size_t count = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t j = std::min(host.find('.', i), host.size());
    if (count == 4) return std::nullopt;
    if (!parse_ipv4_part(host.substr(i, j - i), values[count])) return std::nullopt;
    ++count;
    if (j == host.size()) break;
    i = j + 1;
  }
  // inet_aton: every part but the last is one byte; the last fills the remaining bytes.
  std::uint64_t address = 0;
  for (std::size_t k = 0; k + 1 < count; ++k) {
    if (values[k] > 255) return std::nullopt;
    address |= values[k] << (8 * (3 - k));
  }
  const std::size_t remaining_bytes = 4 - (count - 1);
  if (remaining_bytes < 4 && values[count - 1] >= (1ULL << (8 * remaining_bytes))) return std::nullopt;
  address |= values[count - 1];
  return static_cast<std::uint32_t>(address);
}

std::optional<std::string> normalize_ipv4(std::string_view host) {
  const auto address = parse_ipv4(host);
  if (!address) return std::nullopt;
  std::string out;
  append_ipv4(out, *address);
  return out;
}

void canonicalize_host(std::string_view raw, std::string& host) {
  // Lower-cased and dots collapsed in place after one bulk copy (push_back per byte was most
  // of this function's time).
  host.assign(raw);
  bool ascii = true;
  std::size_t w = 0;
  for (std::size_t r = 0; r < host.size(); ++r) {
    const char c = host[r];
    if (c == '.' && (w == 0 || host[w - 1] == '.')) continue;
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    host[w++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }
  while (w > 0 && host[w - 1] == '.') --w;
  host.resize(w);
  if (host.empty()) return;
  if (const auto ip = parse_ipv4(host)) {
    host.clear();
    append_ipv4(host, *ip);
  } else if (!ascii) {
    // Unicode hosts are rare, but a campaign repeats its lookalike host: remember the last few
    // IDNA conversions (libidn2 allocates) so the steady path does not convert again.
    thread_local detail::Memo<std::string, 64> memo;
    const std::string& ascii_form = memo.get(host, [&host](std::string& form) { form = canonical_host(host); });
    if (!ascii_form.empty()) {
      host.assign(ascii_form);
      // IDNA maps full-width digits and dots and drops ignorable characters (U+FEFF), so the
      // ASCII form may be an address ("１９２．１６８．０．１"): read it as one, as browsers do
      // (WHATWG URL: domain to ASCII, then the IPv4 parser). Otherwise canonicalising twice
      // would not give the same host (found by blocklist_fuzz: "0.0.0.0<U+FEFF>x").
      if (const auto ip = parse_ipv4(host)) {
        host.clear();
        append_ipv4(host, *ip);
      }
    }
  }
}

std::string canonicalize_host(std::string_view raw) {
  std::string host;
  canonicalize_host(raw, host);
  return host;
}

namespace {

// Most links as posted are canonical already: "https://vnexpress.net/thoi-su", "tuoitre.vn".
// When one pass over the bytes shows that every step below would leave the URL as written
// (lower-case http/https or no scheme; a lower-case ASCII host that starts with a letter, so
// it is no address, with single inner dots; a path without empty, "." or ".." segments, and
// no byte to escape, no query, fragment, escape, port, user info or white space), the
// canonical form is the URL itself, with "http://" when it has no scheme and "/" when it has
// no path. Anything else takes the full steps.
bool canonical_as_written(std::string_view raw, UrlBuffers& buf) {
  std::string_view scheme = "http";
  std::string_view rest = raw;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    scheme = "https";
    rest.remove_prefix(8);
  }
  if (rest.empty() || rest[0] < 'a' || rest[0] > 'z') return false;
  std::size_t i = 0;
  char previous = 0;
  for (; i < rest.size() && rest[i] != '/'; ++i) {
    const char c = rest[i];
    const bool label_byte = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!label_byte && !(c == '.' && previous != '.')) return false;
    previous = c;
  }
  if (previous == '.') return false;
  const std::string_view host = rest.substr(0, i);
  const std::string_view path = rest.substr(i);
  for (std::size_t k = 0; k < path.size(); ++k) {
    const char c = path[k];
    if (c <= ' ' || c >= 0x7f || c == '#' || c == '%' || c == '?') return false;
    if (c == '/' && k + 1 < path.size() && (path[k + 1] == '/' || path[k + 1] == '.')) return false;
  }
  buf.host.assign(host);
  buf.url.assign(scheme).append("://").append(host);
  if (path.empty()) {
    buf.url.push_back('/');
  } else {
    buf.url.append(path);
  }
  return true;
}

}  // namespace

bool canonicalize_url(std::string_view raw, UrlBuffers& buf) {
  if (canonical_as_written(raw, buf)) return true;
  // Each step copies only when it has something to change: URLs as posted rarely contain
  // tabs or line breaks, and most have no percent escapes.
  std::string_view input = raw;
  if (detail::find_first_in(raw, kLineBreaks) != std::string_view::npos) {
    std::string& s = buf.work[0];
    s.clear();
    for (char c : raw) {
      if (c != '\t' && c != '\r' && c != '\n') s.push_back(c);
    }
    input = s;
  }
  const auto first = input.find_first_not_of(' ');
  if (first == std::string_view::npos) return false;
  std::string_view trimmed = input.substr(first, input.find_last_not_of(' ') - first + 1);
  if (const auto hash = trimmed.find('#'); hash != std::string_view::npos) trimmed = trimmed.substr(0, hash);
  std::string_view decoded = trimmed;
  if (trimmed.find('%') != std::string_view::npos) {
    std::string* cur = &buf.work[1];
    std::string* other = &buf.work[0];
    cur->assign(trimmed);  // trimmed may point into work[0]: copied before work[0] is written
    for (int round = 0; round < 16 && percent_decode(*cur, *other); ++round) std::swap(cur, other);
    decoded = *cur;
  }

  std::string_view scheme = "http";
  std::string_view rest = decoded;
  bool lower_scheme = false;
  if (const auto sep = rest.find("://");
      sep != std::string_view::npos && sep > 0 &&
      std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(sep),
                  [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); })) {
    scheme = rest.substr(0, sep);
    lower_scheme = true;
    rest.remove_prefix(sep + 3);
  }
  const std::size_t host_end = std::min(detail::find_first_in(rest, kPathEnd), rest.size());
  std::string_view host_part = rest.substr(0, host_end);
  const std::string_view path_and_query = rest.substr(host_end);
  if (const auto at = host_part.rfind('@'); at != std::string_view::npos) host_part.remove_prefix(at + 1);
  if (const auto colon = host_part.rfind(':'); colon != std::string_view::npos) host_part = host_part.substr(0, colon);

  std::string& scratch = buf.work[2];
  canonicalize_host(host_part, scratch);
  if (scratch.empty()) return false;
  buf.host.clear();
  escape_into(buf.host, scratch);

  std::string_view path = path_and_query;
  std::string_view query;
  bool has_query = false;
  if (const auto q = path_and_query.find('?'); q != std::string_view::npos) {
    path = path_and_query.substr(0, q);
    query = path_and_query.substr(q + 1);
    has_query = true;
  }
  buf.url.assign(scheme);
  if (lower_scheme) {
    for (char& c : buf.url) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;  // ASCII letters only
  }
  buf.url.append("://").append(buf.host);
  resolve_path(path, scratch);
  escape_into(buf.url, scratch);
  if (has_query) {
    buf.url.push_back('?');
    escape_into(buf.url, query);
  }
  return true;
}

std::optional<CanonicalUrl> canonicalize_url(std::string_view raw) {
  UrlBuffers buf;
  if (!canonicalize_url(raw, buf)) return std::nullopt;
  return CanonicalUrl{std::move(buf.url), std::move(buf.host)};
}

}  // namespace vigil::extract
