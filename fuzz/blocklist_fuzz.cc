// Known-bad feed parsing and blocklist topic records over arbitrary bytes: every kept entry is
// a canonical key (canonicalising it again changes nothing), entries are unique, the counts
// stay within the line count, every entry matches itself, and never a crash. The first byte
// picks the format; the rest is the feed, or (split at the first NUL) a topic record's key
// and value.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "common/detect/blocklist.h"

namespace {

void check_key(const std::string& key) {
  if (key.empty() || key.find('.') == std::string::npos) __builtin_trap();
  if (vigil::detect::blocklist_key(key) != key) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using vigil::detect::FeedFormat;
  static constexpr FeedFormat kFormats[] = {FeedFormat::kAuto, FeedFormat::kHosts, FeedFormat::kAdblock,
                                            FeedFormat::kDomains};
  const FeedFormat format = kFormats[data[0] % 4];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto feed = vigil::detect::parse_feed(text, format);
  if (feed.malformed > feed.lines || feed.malformed_lines.size() > vigil::detect::ParsedFeed::kMaxLineNumbers)
    __builtin_trap();
  for (std::size_t i = 0; i < feed.malformed_lines.size(); ++i) {
    if (feed.malformed_lines[i] == 0 || feed.malformed_lines[i] > feed.lines) __builtin_trap();
    if (i > 0 && feed.malformed_lines[i] <= feed.malformed_lines[i - 1]) __builtin_trap();
  }
  const std::set<std::string> unique(feed.domains.begin(), feed.domains.end());
  if (unique.size() != feed.domains.size()) __builtin_trap();
  for (const auto& d : feed.domains) check_key(d);
  for (const auto& d : feed.exceptions) check_key(d);

  const auto set = vigil::detect::FeedSet::build({{vigil::detect::FeedSpec{"fuzz", "/fuzz", format}, feed}});
  if (set->size() != feed.domains.size()) __builtin_trap();
  for (const auto& d : feed.domains) {
    // Listed, so it matches itself, unless an exception covers it.
    const auto m = set->match(d);
    if (m && m->domain != d) __builtin_trap();
    if (!m && feed.exceptions.empty()) __builtin_trap();
  }

  const auto nul = text.find('\0');
  std::optional<std::string> key(std::string(text.substr(0, nul)));
  std::optional<std::string> value;
  if (nul != std::string_view::npos) value.emplace(text.substr(nul + 1));
  const auto record = vigil::detect::parse_blocklist_record(key, value);
  if (record.is_ok()) {
    check_key(record.value().domain);
    if (record.value().remove != !value.has_value()) __builtin_trap();
    if (!record.value().remove && record.value().feed.empty()) __builtin_trap();
    vigil::detect::Blocklist b;
    if (b.apply(record.value()) == record.value().remove) __builtin_trap();  // a removal from empty changes nothing
    if (!record.value().remove && !b.match(record.value().domain)) __builtin_trap();
  }
  return 0;
}
