#include "common/detect/blocklist.h"

#include <arpa/inet.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/core/json_writer.h"
#include "common/extract/extract.h"
#include "common/extract/url.h"

namespace vigil::detect {
namespace {

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// A "#" that starts a comment: at the start of the line or after white space (a "#" inside a
// token is not one, and hosts-file names never contain it anyway).
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || space(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

// The address column of a hosts file: IPv4 or IPv6 (with an optional zone, "fe80::1%lo0").
bool ip_address(std::string_view token) {
  std::string s(token.substr(0, token.find('%')));
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

// Names every hosts file carries for the machine itself: not blocklist entries, not errors.
bool hosts_boilerplate(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "localhost",    "localhost.localdomain", "local",        "broadcasthost",  "ip6-localhost", "ip6-loopback",
      "ip6-localnet", "ip6-mcastprefix",       "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",  "0.0.0.0"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

bool cosmetic(std::string_view line) {
  for (const std::string_view marker : {"##", "#@#", "#?#", "#$#", "#%#"}) {
    if (line.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(ParsedFeed& out) : out_(out) {}

  void malformed(std::size_t line) {
    ++out_.malformed;
    if (out_.malformed_lines.size() < ParsedFeed::kMaxLineNumbers) out_.malformed_lines.push_back(line);
  }
  void skipped() { ++out_.skipped; }
  void block(std::string key) {
    if (blocked_.insert(key).second) out_.domains.push_back(std::move(key));
  }
  void except(std::string key) {
    if (excepted_.insert(key).second) out_.exceptions.push_back(std::move(key));
  }

  void hosts_line(std::string_view line, std::size_t number) {
    const auto t = tokens(strip_comment(line));
    if (t.empty()) return;
    if (t.size() < 2 || !ip_address(t[0])) return malformed(number);
    bool bad = false;
    for (std::size_t i = 1; i < t.size(); ++i) {
      if (hosts_boilerplate(t[i])) {
        skipped();
        continue;
      }
      std::string key = blocklist_key(t[i]);
      if (key.empty()) {
        bad = true;
      } else {
        block(std::move(key));
      }
    }
    if (bad) malformed(number);
  }

  void domain_line(std::string_view line, std::size_t number) {
    const auto t = tokens(strip_comment(line));
    if (t.empty()) return;
    if (t.size() != 1) return malformed(number);
    std::string key = blocklist_key(t[0]);
    if (key.empty()) return malformed(number);
    block(std::move(key));
  }

  // Only "||domain^" rules (optionally "@@" exceptions, a closing "|", and options that do not
  // narrow the rule) block a whole domain; every other valid rule is skipped.
  void adblock_line(std::string_view line, std::size_t number) {
    line = trim(line);
    if (line.empty() || line.front() == '!' || line.front() == '[') return;
    if (cosmetic(line)) return skipped();
    if (line.front() == '#') return;  // a comment in DNS-style lists
    const bool exception = line.starts_with("@@");
    if (exception) line.remove_prefix(2);
    if (!line.starts_with("||")) return skipped();  // URL, regex or substring rule
    line.remove_prefix(2);
    std::string_view options;
    if (const auto dollar = line.find('$'); dollar != std::string_view::npos) {
      options = line.substr(dollar + 1);
      line = line.substr(0, dollar);
    }
    if (line.ends_with('|')) line.remove_suffix(1);
    if (!line.ends_with('^')) return skipped();  // "||ads" also matches "adsite.com": a prefix, not a domain
    line.remove_suffix(1);
    if (line.find_first_of("/*^|?=&:") != std::string_view::npos) return skipped();  // a path or a wildcard
    while (!options.empty()) {
      const auto comma = options.find(',');
      const std::string_view option = trim(options.substr(0, comma));
      options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
      // These keep the rule a block of the whole site; anything else (third-party, script,
      // domain=, badfilter, ...) narrows or cancels it.
      if (option != "important" && option != "all" && option != "document" && option != "doc" && option != "popup") {
        return skipped();
      }
    }
    std::string key = blocklist_key(line);
    if (key.empty()) return malformed(number);
    if (exception) {
      except(std::move(key));
    } else {
      block(std::move(key));
    }
  }

  void auto_line(std::string_view line, std::size_t number) {
    const std::string_view t = trim(line);
    if (t.empty()) return;
    if (t.front() == '!' || t.front() == '[' || t.front() == '|' || t.starts_with("@@") || cosmetic(t)) {
      return adblock_line(t, number);
    }
    if (t.front() == '#') return;
    const std::size_t first_end = std::min(t.find_first_of(" \t"), t.size());
    if (first_end < t.size() && ip_address(t.substr(0, first_end))) return hosts_line(t, number);
    domain_line(t, number);
  }

 private:
  ParsedFeed& out_;
  std::unordered_set<std::string> blocked_;
  std::unordered_set<std::string> excepted_;
};

bool dotted_ipv4(std::string_view host) {
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos &&
         std::count(host.begin(), host.end(), '.') == 3;
}

// Calls `f` with `host` and each parent domain, longest first, until it returns true; an IPv4
// address has no parents. Returns what the last call returned.
template <typename F>
bool each_suffix(std::string_view host, F&& f) {
  if (dotted_ipv4(host)) return f(host);
  const std::string_view whole = host;
  while (!host.empty()) {
    // An address is listed for itself only: "9.1.2.3.4" is a name, not under 1.2.3.4.
    if ((host.size() == whole.size() || !dotted_ipv4(host)) && f(host)) return true;
    const auto dot = host.find('.');
    if (dot == std::string_view::npos) return false;
    host.remove_prefix(dot + 1);
  }
  return false;
}

bool printable_text(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<FeedFormat> parse_feed_format(std::string_view name) {
  if (name == "auto") return FeedFormat::kAuto;
  if (name == "hosts") return FeedFormat::kHosts;
  if (name == "adblock") return FeedFormat::kAdblock;
  if (name == "domains") return FeedFormat::kDomains;
  return std::nullopt;
}

std::string_view feed_format_name(FeedFormat format) {
  switch (format) {
    case FeedFormat::kAuto: return "auto";
    case FeedFormat::kHosts: return "hosts";
    case FeedFormat::kAdblock: return "adblock";
    case FeedFormat::kDomains: return "domains";
  }
  return "auto";
}

std::string blocklist_key(std::string_view domain) {
  if (domain.size() > 253 || domain.find('.') == std::string_view::npos) return {};
  std::string host = extract::canonicalize_host(domain);
  if (host.empty() || host.size() > 253 || host.find('.') == std::string::npos) return {};
  const bool charset = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
  if (!charset) return {};
  if (dotted_ipv4(host) && extract::normalize_ipv4(host) == host) return host;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::size_t length = dot - start;
    if (length == 0 || length > 63) return {};
    start = dot + 1;
  }
  // A numeric last label is neither a name nor (having failed above) an address.
  const std::string_view tld = std::string_view(host).substr(host.rfind('.') + 1);
  if (tld.find_first_not_of("0123456789") == std::string_view::npos) return {};
  if (extract::registrable_domain(host).empty()) return {};
  return host;
}

ParsedFeed parse_feed(std::string_view text, FeedFormat format) {
  ParsedFeed out;
  Parser parser(out);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte-order mark
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    switch (format) {
      case FeedFormat::kAuto: parser.auto_line(line, number); break;
      case FeedFormat::kHosts: parser.hosts_line(line, number); break;
      case FeedFormat::kAdblock: parser.adblock_line(line, number); break;
      case FeedFormat::kDomains: {
        const std::string_view t = trim(line);
        if (!t.empty() && t.front() != '!') parser.domain_line(t, number);
        break;
      }
    }
  }
  out.lines = number;
  return out;
}

Result<std::shared_ptr<const FeedSet>> FeedSet::load(const std::vector<FeedSpec>& specs) {
  std::vector<std::pair<FeedSpec, ParsedFeed>> parsed;
  for (const auto& spec : specs) {
    std::ifstream in(spec.path, std::ios::binary);
    if (!in) {
      return Status(errno == ENOENT ? Code::kNotFound : Code::kIo,
                    "blocklist feed '" + spec.name + "': cannot read " + spec.path + ": " + std::strerror(errno));
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return io_error("blocklist feed '" + spec.name + "': error reading " + spec.path);
    parsed.emplace_back(spec, parse_feed(text, spec.format));
  }
  return build(parsed);
}

std::shared_ptr<const FeedSet> FeedSet::build(const std::vector<std::pair<FeedSpec, ParsedFeed>>& parsed) {
  auto set = std::make_shared<FeedSet>();
  for (const auto& [spec, feed] : parsed) {
    const auto index = static_cast<std::uint32_t>(set->feeds_.size());
    set->feeds_.push_back(Feed{spec.name, spec.path, spec.format, feed.domains.size(), feed.exceptions.size(),
                               feed.malformed, feed.skipped, feed.malformed_lines});
    for (const auto& d : feed.domains) set->blocked_.emplace(d, index);
    set->exceptions_.insert(feed.exceptions.begin(), feed.exceptions.end());
  }
  return set;
}

std::optional<FeedSet::Match> FeedSet::match(std::string_view host) const {
  if (blocked_.empty()) return std::nullopt;
  thread_local std::string key;
  auto lookup_exception = [&](std::string_view s) {
    key.assign(s);
    return exceptions_.count(key) != 0;
  };
  if (!exceptions_.empty() && each_suffix(host, lookup_exception)) return std::nullopt;
  std::optional<Match> found;
  each_suffix(host, [&](std::string_view s) {
    key.assign(s);
    const auto it = blocked_.find(key);
    if (it == blocked_.end()) return false;
    found = Match{it->first, it->second};
    return true;
  });
  return found;
}

Result<BlocklistUpdate> parse_blocklist_record(const std::optional<std::string>& key,
                                               const std::optional<std::string>& value) {
  if (!key || trim(*key).empty()) return invalid_argument("the record has no key (the key is the domain)");
  BlocklistUpdate update;
  update.domain = blocklist_key(trim(*key));
  if (update.domain.empty()) {
    return invalid_argument("key '" + std::string(trim(*key).substr(0, 100)) +
                            "' is not a domain under a public suffix or an IPv4 address");
  }
  if (!value) {
    update.remove = true;
    return update;
  }
  const std::string_view v = trim(*value);
  if (v.empty()) return invalid_argument("empty value: give the feed name or {\"feed\": ..., \"reason\": ...}");
  if (v.front() == '{') {
    // The DOM parser checks the whole value (nothing after the object), unlike On Demand.
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(v.data(), v.size()).get(object) != simdjson::SUCCESS) {
      return invalid_argument("value is not a JSON object");
    }
    for (const auto field : object) {
      if (field.key != "feed" && field.key != "reason") continue;
      std::string_view text;
      if (field.value.get(text) != simdjson::SUCCESS)
        return invalid_argument("'" + std::string(field.key) + "' must be a string");
      (field.key == "feed" ? update.feed : update.reason).assign(trim(text));
    }
  } else {
    update.feed.assign(v);
  }
  if (update.feed.empty()) return invalid_argument("no feed name (value \"name\" or {\"feed\": \"name\"})");
  if (update.feed.size() > 64 || !printable_text(update.feed) || !is_valid_utf8(update.feed))
    return invalid_argument("the feed name must be 1..64 printable characters");
  if (update.reason.size() > 500 || !printable_text(update.reason) || !is_valid_utf8(update.reason))
    return invalid_argument("the reason must be at most 500 printable characters");
  return update;
}

std::optional<Blocklist::Hit> Blocklist::match(std::string_view host) const {
  if (!topic_.empty()) {
    thread_local std::string key;
    std::optional<Hit> hit;
    each_suffix(host, [&](std::string_view s) {
      key.assign(s);
      const auto it = topic_.find(key);
      if (it == topic_.end()) return false;
      hit = Hit{it->first, it->second.feed, it->second.reason};
      return true;
    });
    if (hit) return hit;
  }
  if (files_) {
    if (const auto m = files_->match(host)) return Hit{m->domain, files_->feeds()[m->feed].name, {}};
  }
  return std::nullopt;
}

bool Blocklist::apply(const BlocklistUpdate& update) {
  auto forget = [&](const std::string& feed) {
    if (auto it = topic_feeds_.find(feed); it != topic_feeds_.end() && --it->second == 0) topic_feeds_.erase(it);
  };
  const auto it = topic_.find(update.domain);
  if (update.remove) {
    if (it == topic_.end()) return false;
    forget(it->second.feed);
    topic_.erase(it);
    return true;
  }
  if (it != topic_.end()) {
    if (it->second.feed == update.feed && it->second.reason == update.reason) return false;
    forget(it->second.feed);
    it->second = TopicEntry{update.feed, update.reason};
  } else {
    topic_.emplace(update.domain, TopicEntry{update.feed, update.reason});
  }
  ++topic_feeds_[update.feed];
  return true;
}

std::string_view official_domain_of(std::string_view host, const RulePack& pack) {
  std::string_view found;
  each_suffix(host, [&](std::string_view s) {
    const auto it = pack.official.find(s);
    if (it == pack.official.end()) return false;
    found = it->first;
    return true;
  });
  return found;
}

std::vector<std::string> listed_official(const std::vector<std::string>& domains, const RulePack& pack) {
  std::vector<std::string> out;
  for (const auto& d : domains) {
    const std::string_view official = official_domain_of(d, pack);
    if (!official.empty()) out.push_back(d + " (" + pack.official.find(official)->second + ")");
  }
  return out;
}

FeedWatcher::FeedWatcher(std::vector<FeedSpec> specs, std::chrono::milliseconds check_every)
    : specs_(std::move(specs)),
      check_every_(check_every),
      next_check_(std::chrono::steady_clock::now() + check_every),
      seen_(stamps()) {}

std::vector<std::pair<std::int64_t, std::int64_t>> FeedWatcher::stamps() const {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& spec : specs_) {
    struct stat st = {};
    if (::stat(spec.path.c_str(), &st) != 0) {
      out.emplace_back(-1, -1);
    } else {
      out.emplace_back(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                       static_cast<std::int64_t>(st.st_size));
    }
  }
  return out;
}

FeedWatcher::Outcome FeedWatcher::poll() {
  bool due = requested_.exchange(false, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (!due && !specs_.empty() && check_every_.count() > 0 && now >= next_check_) {
    next_check_ = now + check_every_;
    due = stamps() != seen_;
  }
  if (!due || specs_.empty()) return {};
  seen_ = stamps();
  auto loaded = FeedSet::load(specs_);
  if (!loaded.is_ok()) return {nullptr, loaded.status()};
  return {std::move(loaded.value()), Status::ok()};
}

}  // namespace vigil::detect
