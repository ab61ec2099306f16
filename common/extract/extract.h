#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::extract {

enum class EntityType { kUrl, kDomain, kPhone, kAccount };

std::string_view entity_type_name(EntityType t);

// Whether values of this type identify a person and so are masked in flags and logs.
bool is_personal(EntityType t);

struct Entity {
  EntityType type;
  std::string value;        // canonical form (lower-case ASCII host, 0-prefixed 10-digit phone, ...)
  std::uint32_t start = 0;  // byte span in the text it came from (0,0 for structured fields)
  std::uint32_t end = 0;
};

// Masks the middle of a value, keeping a prefix up to ':' and two characters either side:
// "telegram:5012345612" -> "telegram:50******12", "0912345678" -> "09******78".
std::string mask(std::string_view value);

// Finds URLs and bare hosts with a known public suffix in free text ("vietcombamk.com.vn/x",
// "https://momo-vn.top"). Each URL yields a kUrl entity and its registrable domain a kDomain
// entity (once per distinct domain).
// Thread-safety: free functions over immutable data (the public suffix list loads once).
void find_urls(std::string_view text, std::vector<Entity>& out);

// Adds a URL from a structured field (attachments, link entities) with the same canonical form.
void add_url(std::string_view url, std::vector<Entity>& out);

// Vietnamese mobile numbers: 0xxxxxxxxx with current prefixes (03, 05, 07, 08, 09), +84/84
// forms, spaces, dots and dashes between digit groups. Canonical form "0" + 9 digits.
void find_phones(std::string_view text, std::vector<Entity>& out);

// Lower-case ASCII (IDNA) form of a host, without trailing dots; empty if it is not a host.
std::string canonical_host(std::string_view host);

// Unicode form of an IDNA host ("xn--vietcombnk-z4a.vn" -> "vietcombánk.vn"); the input
// itself when it has no punycode labels or does not decode.
std::string host_to_unicode(std::string_view canonical_host);

// Host part of a canonical URL as produced by find_urls/add_url ("https://a.b.vn/x" -> "a.b.vn").
std::string_view url_host(std::string_view canonical_url);

// Registrable domain under the Public Suffix List ("a.b.vietcombank.com.vn" ->
// "vietcombank.com.vn"); empty for a bare public suffix or an IP address.
std::string registrable_domain(std::string_view canonical_host);

}  // namespace vigil::extract
