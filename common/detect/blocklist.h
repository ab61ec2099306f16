#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/core/status.h"
#include "common/detect/rule_pack.h"

namespace vigil::detect {

// Known-bad domain feeds (blocklists): files in hosts, Adblock or plain-domain format, and
// entries published on a compacted Kafka topic. A link whose host is a listed domain or under
// one is a fraud_link hit (rule intel.blocklist). Format and semantics: docs/rule-packs.md.

enum class FeedFormat {
  kAuto,     // each line by its shape: hosts line, Adblock rule or one domain
  kHosts,    // "0.0.0.0 bad.example other.example  # comment"
  kAdblock,  // "||bad.example^", "@@||good.example^", "! comment"
  kDomains,  // one domain per line, "#" comments
};

std::optional<FeedFormat> parse_feed_format(std::string_view name);
std::string_view feed_format_name(FeedFormat format);

// What one feed's text says. Never fails: lines that are not rules of the format are counted
// (and the first few numbered) so the loader can log them, and the rest is kept.
struct ParsedFeed {
  static constexpr std::size_t kMaxLineNumbers = 5;

  std::vector<std::string> domains;     // blocked, as blocklist_key gives them, each once
  std::vector<std::string> exceptions;  // Adblock "@@" rules: never blocked by any feed file
  std::size_t lines = 0;
  std::size_t malformed = 0;                 // not a rule of the format, or not a usable domain
  std::size_t skipped = 0;                   // valid rules that are not plain domain blocks (paths, options, cosmetics)
  std::vector<std::size_t> malformed_lines;  // 1-based numbers of the first kMaxLineNumbers
};

ParsedFeed parse_feed(std::string_view text, FeedFormat format);

// A domain as blocklists key it: canonical the way URL hosts are (extract::canonicalize_host:
// lower case, IDNA, IPv4 in any notation as dotted decimal), with at least one dot, and either
// an IPv4 address or a name that is not itself a public suffix (listing "github.io" or "com.vn"
// would block everyone under it). Empty when `domain` is none of these.
std::string blocklist_key(std::string_view domain);

// One configured feed file (DetectorConfig::intel).
struct FeedSpec {
  std::string name;
  std::string path;
  FeedFormat format = FeedFormat::kAuto;
};

// The feed files, loaded and merged. Immutable: a reload builds a new one and swaps it in
// between batches.
class FeedSet {
 public:
  struct Feed {
    std::string name;
    std::string path;
    FeedFormat format = FeedFormat::kAuto;
    std::size_t entries = 0;  // distinct blocked domains of this file
    std::size_t exceptions = 0;
    std::size_t malformed = 0;
    std::size_t skipped = 0;
    std::vector<std::size_t> malformed_lines;
  };

  // Reads and parses every file; an unreadable file is an error naming it (the caller keeps
  // what it had, or stops at start-up).
  static Result<std::shared_ptr<const FeedSet>> load(const std::vector<FeedSpec>& specs);
  // From feeds already parsed (tests, fuzzing): the same merge as load().
  static std::shared_ptr<const FeedSet> build(const std::vector<std::pair<FeedSpec, ParsedFeed>>& parsed);

  const std::vector<Feed>& feeds() const { return feeds_; }
  std::size_t size() const { return blocked_.size(); }

  // The most specific listed domain that `host` (canonical) equals or is under, and the
  // index of its first feed in config order; nullopt when none is, or when an exception covers
  // the host.
  struct Match {
    std::string_view domain;
    std::uint32_t feed = 0;
  };
  std::optional<Match> match(std::string_view host) const;

  // Every listed domain, with the index of its first feed.
  const std::unordered_map<std::string, std::uint32_t>& entries() const { return blocked_; }

 private:
  std::vector<Feed> feeds_;
  std::unordered_map<std::string, std::uint32_t> blocked_;
  std::unordered_set<std::string> exceptions_;
};

// One record of the blocklist topic: key = domain, value = feed name or
// {"feed": "...", "reason": "..."}, no value (tombstone) = removal.
struct BlocklistUpdate {
  std::string domain;  // blocklist_key
  bool remove = false;
  std::string feed;
  std::string reason;  // optional free text from the publisher, shown in the flag's reason
};

// Errors say what is wrong with the record; the caller counts and logs them and goes on.
Result<BlocklistUpdate> parse_blocklist_record(const std::optional<std::string>& key,
                                               const std::optional<std::string>& value);

// The feed files plus the topic's entries: what the detector asks about each link host.
// Lifecycle: owned by the processing thread; changed only between batches (set_files, apply),
// so the detector reads it without locks.
class Blocklist {
 public:
  struct Hit {
    std::string_view domain;  // the listed domain the host equals or is under
    std::string_view feed;
    std::string_view reason;  // empty for feed files
  };
  // Topic entries first (they carry a publisher's reason), then the files. Views stay valid
  // until the next set_files() or apply().
  std::optional<Hit> match(std::string_view host) const;

  void set_files(std::shared_ptr<const FeedSet> files) { files_ = std::move(files); }
  const FeedSet* files() const { return files_.get(); }

  // Applies one topic record; true when it changed an entry.
  bool apply(const BlocklistUpdate& update);
  // Topic entries by feed name.
  const std::map<std::string, std::size_t>& topic_feeds() const { return topic_feeds_; }
  std::size_t topic_size() const { return topic_.size(); }

 private:
  struct TopicEntry {
    std::string feed;
    std::string reason;
  };
  std::shared_ptr<const FeedSet> files_;
  std::unordered_map<std::string, TopicEntry> topic_;
  std::map<std::string, std::size_t> topic_feeds_;
};

// Listed domains that are official for a brand of `pack` (or under one): never flagged, and
// worth a warning when a feed lists them. Each as "domain (brand id)".
std::vector<std::string> listed_official(const std::vector<std::string>& domains, const RulePack& pack);

// The official brand domain that `host` is or is under, or empty.
std::string_view official_domain_of(std::string_view host, const RulePack& pack);

// Decides when to reload the feed files (on request, i.e. SIGHUP, or when any file's
// modification time or size changed, checked at most every `check_every`) and loads them, as
// RulePackWatcher does for the pack: a set that does not load is reported and the caller
// keeps the one it has.
// Lifecycle: poll() on the processing thread between batches; request() from a signal handler.
class FeedWatcher {
 public:
  FeedWatcher(std::vector<FeedSpec> specs, std::chrono::milliseconds check_every);

  void request() { requested_.store(true, std::memory_order_relaxed); }

  struct Outcome {
    std::shared_ptr<const FeedSet> feeds;  // set when the files loaded again
    Status error;                          // set when a reload was due and failed
  };
  Outcome poll();

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> stamps() const;

  std::vector<FeedSpec> specs_;
  std::chrono::milliseconds check_every_;
  std::chrono::steady_clock::time_point next_check_;
  std::vector<std::pair<std::int64_t, std::int64_t>> seen_;
  std::atomic<bool> requested_{false};
};

}  // namespace vigil::detect
