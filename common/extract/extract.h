#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/time.h"
#include "common/text/text.h"

namespace vigil::extract {

enum class EntityType { kUrl, kDomain, kPhone, kEmail, kCitizenId, kBankAccount, kHandle, kAccount };

std::string_view entity_type_name(EntityType t);
// The inverse of entity_type_name; nullopt for an unknown name.
std::optional<EntityType> entity_type_from_name(std::string_view name);

// Whether values of this type identify a person and so are masked in flags and logs.
bool is_personal(EntityType t);

struct Entity {
  EntityType type;
  std::string value;        // canonical: URL per canonicalize_url, registrable domain, E.164 phone
                            // (+84...), lower-case e-mail, 12-digit CCCD or 9-digit CMND, account
                            // digits, "@handle" (lower case), "<platform>:<id>"
  std::string qualifier;    // bank name for accounts, "cccd"/"cmnd" for IDs, platform for handles
  std::uint32_t start = 0;  // byte span in the text it came from (0,0 for structured fields)
  std::uint32_t end = 0;

  bool in_text() const { return end > start; }
};

// The entities of one post, in the order they were found. A list reused across posts keeps the
// storage of its strings: clear() forgets the entities but not their buffers, so extraction on
// the steady path allocates nothing once the list has seen posts as large as the current one.
class EntityList {
 public:
  using value_type = Entity;
  using iterator = Entity*;
  using const_iterator = const Entity*;

  EntityList() = default;
  EntityList(const EntityList& other) : items_(other.begin(), other.end()), size_(other.size_) {}
  EntityList(EntityList&& other) noexcept : items_(std::move(other.items_)), size_(other.size_) {
    other.items_.clear();
    other.size_ = 0;
  }
  EntityList& operator=(const EntityList& other) {
    if (this != &other) {
      clear();
      for (const auto& e : other) push_back(e);
    }
    return *this;
  }
  EntityList& operator=(EntityList&& other) noexcept {
    if (this != &other) {
      items_ = std::move(other.items_);
      size_ = other.size_;
      other.items_.clear();
      other.size_ = 0;
    }
    return *this;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Entity& operator[](std::size_t i) { return items_[i]; }
  const Entity& operator[](std::size_t i) const { return items_[i]; }
  Entity* begin() { return items_.data(); }
  Entity* end() { return items_.data() + size_; }
  const Entity* begin() const { return items_.data(); }
  const Entity* end() const { return items_.data() + size_; }
  Entity& front() { return items_[0]; }
  const Entity& front() const { return items_[0]; }
  Entity& back() { return items_[size_ - 1]; }
  const Entity& back() const { return items_[size_ - 1]; }

  // Forgets the entities; their strings' buffers stay for the next ones.
  void clear() { size_ = 0; }
  // Appends a copy (into a reused slot when there is one).
  Entity& push_back(const Entity& e) { return add(e.type, e.value, e.qualifier, e.start, e.end); }
  Entity& add(EntityType type, std::string_view value, std::string_view qualifier, std::uint32_t start,
              std::uint32_t end);
  // Appends unless an entity of the same type and value is already in the list; false then.
  bool add_unique(EntityType type, std::string_view value, std::string_view qualifier, std::uint32_t start,
                  std::uint32_t end);
  bool contains(EntityType type, std::string_view value) const;
  // Removes the entities from index `from` on for which pred(entity) holds, keeping the order
  // of the others (and the removed ones' buffers).
  template <typename Pred>
  void remove_from(std::size_t from, Pred pred) {
    std::size_t w = from;
    for (std::size_t r = from; r < size_; ++r) {
      if (pred(static_cast<const Entity&>(items_[r]))) continue;
      if (w != r) std::swap(items_[w], items_[r]);
      ++w;
    }
    size_ = w;
  }

 private:
  std::vector<Entity> items_;  // items_[size_..] are spare slots with their buffers
  std::size_t size_ = 0;
};

// The masked form of a value for output: phones "09******78", CCCD "079*******34", e-mail
// "ng***@gmail.com", accounts keep their last 3 digits, handles their first 2 letters, platform
// accounts their prefix and two characters either side. URLs and domains are not personal and
// come back unchanged.
std::string mask(EntityType type, std::string_view value);
// Masks the middle of any value, keeping a prefix up to ':' and two characters either side.
std::string mask(std::string_view value);

// Everything below, over one post. `folded` must be text::fold(text); `event_time` decides
// whether a CCCD's birth year is plausible. Appends each (type, value) once.
// `out` is appended to; reuse one list across posts (clear() between them) to avoid allocating.
void extract_all(std::string_view text, const text::Folded& folded, TimestampMs event_time, EntityList& out);

// URLs and bare hosts with a known public suffix, also obfuscated: hxxp://, [.], (.), {.},
// [dot], " dot ", [:]. Each URL yields a kUrl entity and its registrable domain (or IPv4) a
// kDomain entity; t.me links also a Telegram handle, zalo.me/<phone> links a phone.
void find_urls(std::string_view text, EntityList& out);

// Whether a URL as written in a post is defanged (hxxp://, [.], (.), {.}, [dot], " dot ", [:],
// [/]): made unclickable on purpose, as warnings quote fake domains and some spammers write
// theirs. `written` is the URL's span in the text.
bool written_defanged(std::string_view written);

// Adds a URL from a structured field (attachments, hidden links, tip targets).
void add_url(std::string_view url, EntityList& out);

// Vietnamese mobile numbers (03x, 05x, 07x, 08x, 09x): 0xxxxxxxxx, +84/84 forms, spaces,
// dots and dashes inside, digits split by spaces, O/o for 0 and l/I for 1. Canonical E.164.
void find_phones(std::string_view text, EntityList& out);

void find_emails(std::string_view text, EntityList& out);

// 12-digit CCCD (province code, century/gender digit and birth year checked) and 9-digit CMND,
// each only near a context word ("CCCD", "căn cước", "CMND", "chứng minh", ...).
void find_citizen_ids(std::string_view text, const text::Folded& folded, TimestampMs event_time, EntityList& out);

// Digit runs of 6..19 digits right after an account keyword ("stk", "số tài khoản", "tk") or
// next to a bank name; the qualifier names the bank when one is mentioned nearby.
void find_bank_accounts(std::string_view text, const text::Folded& folded, EntityList& out);

// "@handle" mentions; qualifier "telegram" when Telegram is mentioned nearby.
void find_handles(std::string_view text, const text::Folded& folded, EntityList& out);

// Lower-case ASCII (IDNA) form of a host, without trailing dots; empty if it is not a host.
std::string canonical_host(std::string_view host);

// Unicode form of an IDNA host ("xn--vietcombnk-z4a.vn" -> "vietcombánk.vn"); the input
// itself when it has no punycode labels or does not decode.
std::string host_to_unicode(std::string_view canonical_host);

// Host part of a canonical URL ("https://a.b.vn/x" -> "a.b.vn").
std::string_view url_host(std::string_view canonical_url);

// Registrable domain under the Public Suffix List ("a.b.vietcombank.com.vn" ->
// "vietcombank.com.vn"); empty for a bare public suffix or an IP address.
std::string registrable_domain(std::string_view canonical_host);

// The same two into `out`, whose buffer is reused (no allocation once it has grown; libidn2
// still allocates internally when a punycode label is decoded).
void registrable_domain(std::string_view canonical_host, std::string& out);
void host_to_unicode(std::string_view canonical_host, std::string& out);

// Whether `province` (e.g. "079") is a province/city code of the CCCD numbering.
bool is_cccd_province(std::string_view province);

}  // namespace vigil::extract
