#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::extract {

struct CanonicalUrl {
  std::string url;   // scheme://host/path?query, canonical
  std::string host;  // lower-case; IDNA (punycode) when it was Unicode; IPv4 as four decimals
};

// Canonicalises a URL the way Google Safe Browsing does before lookups: tabs/CR/LF removed,
// fragment dropped, percent-unescaped until stable, scheme defaulted to http, port and user
// info dropped, host dots trimmed and collapsed, IPv4 in any notation (3279880203, 0xC37F000B,
// 0303.0177.0.013) as dotted decimal, host lower-cased (and IDNA-encoded when Unicode), path
// "." and ".." resolved and slash runs collapsed, and bytes <= 0x20, >= 0x7f, '#' and '%'
// re-escaped. Returns nullopt when there is no host.
std::optional<CanonicalUrl> canonicalize_url(std::string_view raw);

// One pass of %XX decoding of `in` into `out` (replaced); false when nothing was decoded.
bool percent_decode(std::string_view in, std::string& out);

// canonicalize_url into buffers reused from call to call, which then stop allocating once they
// have grown to the longest URL seen. The result is in `url` and `host`.
struct UrlBuffers {
  std::string url;
  std::string host;
  std::string work[3];  // scratch
};
// false when there is no host (buf.url and buf.host are then unspecified). `raw` must not
// point into `buf`.
bool canonicalize_url(std::string_view raw, UrlBuffers& buf);

// The host part of canonicalize_url on its own: lower case, dots collapsed and trimmed, IPv4
// in any notation as dotted decimal, IDNA (punycode) when Unicode. Anything that looks up a
// URL's host (blocklists) canonicalises its keys with this, so both sides agree. A Unicode
// host that IDNA rejects comes back lower-cased but otherwise as it was; empty when no host.
std::string canonicalize_host(std::string_view host);

// The IPv4 address in `host` in any inet_aton notation, as dotted decimal; nullopt otherwise.
std::optional<std::string> normalize_ipv4(std::string_view host);
// The same as a number, without allocating.
std::optional<std::uint32_t> parse_ipv4(std::string_view host);
// canonicalize_host into `out` (its buffer reused).
void canonicalize_host(std::string_view host, std::string& out);

}  // namespace vigil::extract
