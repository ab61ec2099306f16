#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/detect/phrase_matcher.h"
#include "common/detect/stateful_rule.h"

namespace vigil::detect {

// A content rule: fires when any of its phrases occurs as whole words in the folded text.
// Phrases are written in natural Vietnamese in the pack and folded when it loads.
struct PhraseRule {
  std::string id;
  std::string category;
  std::size_t category_index = 0;  // of `category` in RulePack::categories
  int weight = 0;                  // negative weights are counter-signals (news, police warnings, SIM plans)
  std::string reason_en;
  std::string reason_vi;
  std::vector<std::string> phrases;  // folded
  // Regular expressions (Hyperscan syntax) over the folded text, for wording with numbers in
  // it ("lãi 3%/ngày", "2tr/1000 data"); written folded (lower-case ASCII). Matched as whole
  // words like phrases. Flat index: phrases first, then patterns.
  std::vector<std::string> patterns;
  // Optional kind within the category ("loan_shark" for a scam rule): a flag carries the
  // subtype of its heaviest positive rule that has one.
  std::string subtype;
  // The rule counts only when one of these rules (same category, positive, unconditional)
  // also fired in the post: a signal that is ordinary alone but decisive next to another
  // ("chuyển tiền" next to a claimed authority or a video call). Indices into phrase_rules.
  std::vector<std::string> with;
  std::vector<std::size_t> with_rules;
  // A match right after a negation in the same clause ("không chuyển tiền", "đừng cung cấp
  // mã OTP", "miễn phí hồ sơ") does not count; "nếu không ..." (a threat) still does.
  bool negatable = false;
  // A counter-signal of the post's links that applies only when every link behind the
  // post's fraud_link signals is written defanged (hxxp://, [.]): a warning that quotes a fake
  // domain so that nobody can click it. YAML `when_links: defanged`.
  bool defanged_links_only = false;

  std::size_t entries() const { return phrases.size() + patterns.size(); }
};

struct Brand {
  std::string id;
  std::string name;
  std::vector<std::string> domains;       // official registrable domains
  std::vector<std::string> labels;        // the registrable labels of `domains` ("vietcombank")
  std::vector<std::string> aliases;       // short names matched only as whole host tokens ("vcb")
  std::vector<std::u32string> skeletons;  // UTS #39 skeletons of `labels`, same order (confusables.h)
  // The brand holds its label under every public suffix (google.de, facebook.co.uk): its label
  // under a foreign suffix is not a lookalike. Edits, compounds and aliases still are.
  bool global = false;
};

struct LookalikeWeights {
  int edit = 60;        // label within a small edit distance of a brand label
  int same_label = 60;  // brand label under a foreign suffix (vietcombank.com vs .com.vn)
  int compound = 55;    // brand label inside a longer label or a subdomain (vietcombank-khuyenmai)
  int alias = 50;       // an alias as a whole token (vcb-xacthuc.com)
  int confusable = 70;  // a non-ASCII label whose confusable skeleton is a brand's (vietcombаnk, Cyrillic 'а')
  int digits = 60;      // a label that is a brand's once digits are read as letters (techc0mbank, m0mo)
};

// A URL risk signal (fraud_link): a property of a link that phishing pages have but many
// honest links share (a shortener, a free site builder, a cheap TLD, a raw IP, a login path).
// Alone it never flags: the detector adds its weight only to a post that also carries a brand
// or scam signal (docs/rule-packs.md, "URL risk signals").
struct UrlRule {
  enum class Kind {
    kHosts,        // the host is, or is under, one of `hosts` (optionally with a path prefix)
    kTlds,         // the host's last label is one of `tlds`
    kIpHost,       // the host is an IPv4 address
    kPathWords,    // one of `words` in the path or the host's own labels of a link with a host signal
    kBrandInPath,  // a protected brand's name in the path of a link with a host signal
  };
  struct HostPattern {
    std::string host;  // canonical (extract::canonicalize_host)
    std::string path;  // lower-case path prefix ("/forms"), empty for the whole host
  };
  std::string id;
  Kind kind = Kind::kHosts;
  int weight = 0;
  std::string reason_en;  // kBrandInPath: "{brand}" is replaced by the brand's name
  std::string reason_vi;
  std::vector<HostPattern> hosts;
  std::set<std::string> tlds;      // lower case, no dot
  std::vector<std::string> words;  // folded, tokens joined by '-' ("dang-nhap")

  // Host signals say where a link points; the others read what it says and count only on a
  // link that has a host signal.
  bool host_signal() const { return kind == Kind::kHosts || kind == Kind::kTlds || kind == Kind::kIpHost; }
};

// Score bands of a flag's severity (below `medium`: low). Strictly increasing, 1..100.
struct SeverityThresholds {
  int medium = 50;
  int high = 75;
  int critical = 90;
};

struct Category {
  std::string name;
  int threshold = 50;  // minimum score for a flag
};

// An immutable, validated rule pack. Shared by pointer so that a reload can swap it while
// batches in flight finish with the old one. Thread-safety: immutable after load.
struct RulePack {
  std::string name;
  std::string version;
  std::vector<Category> categories;
  std::vector<PhraseRule> phrase_rules;
  std::vector<Brand> brands;
  LookalikeWeights lookalike;
  SeverityThresholds severity;
  std::vector<UrlRule> url_rules;
  // Weight of a known-bad feed hit (intel.blocklist); at least severity.high, so a listed
  // domain alone makes a high flag.
  int blocklist_weight = 80;
  // Every official registrable domain -> the id of its brand. These and their subdomains are
  // never flagged, not even when a blocklist lists them.
  std::map<std::string, std::string, std::less<>> official;
  // Registrable domains that are never lookalikes: every official domain of every brand (so a
  // real bank is never the lookalike of another, e.g. shb.com.vn vs scb.com.vn) and the pack's
  // `not_lookalikes` (real organisations whose names collide with a brand).
  std::set<std::string> never_lookalike;
  // Rules over entity state, evaluated by stage B (docs/state.md).
  std::vector<StatefulRule> stateful_rules;
  StateSettings state;
  RingSettings rings;

  // Every phrase of every rule in one Hyperscan database; flat phrase i belongs to rule
  // phrase_rule[i]. Built by load_rule_pack.
  std::shared_ptr<const PhraseMatcher> matcher;
  std::vector<std::uint32_t> phrase_rule;

  // "vn-core@2026.11.0", the value of `rule_pack` in every flag.
  std::string qualified_version() const { return name + "@" + version; }
  const Category* category(const std::string& name) const;
};

// Text as link words: folded like post text (lower case, no diacritics, đ -> d) word by word,
// with every run of other ASCII characters turned into one '-' and none at either end:
// "/view/Đăng_nhập" -> "view-dang-nhap". Path words of the pack and of links are both written
// this way, so they compare as strings.
std::string link_words(std::string_view text);

// Loads and validates a YAML rule pack (format: docs/detection.md). Errors name the file,
// the rule and the key at fault.
Result<std::shared_ptr<const RulePack>> load_rule_pack(const std::string& path);

}  // namespace vigil::detect
