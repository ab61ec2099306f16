#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/adapters/event.h"
#include "common/detect/blocklist.h"
#include "common/detect/confusables.h"
#include "common/detect/rule_pack.h"
#include "common/extract/extract.h"
#include "common/text/text.h"

namespace vigil::detect {

// A quoted piece of the event text that made a rule fire. start/end are code-point offsets
// into Event::text (NFC), so any language can slice the quote back out.
struct Evidence {
  std::string rule;
  std::string quote;
  std::size_t start = 0;
  std::size_t end = 0;
  bool has_span = true;  // false for things found in structured fields (hidden links, attachments)
};

struct RuleHit {
  std::string id;
  std::string subtype;
  std::string reason_en;
  std::string reason_vi;
  int weight = 0;
  std::vector<std::string> feeds = {};  // intel.blocklist: the feeds that list the post's domains
};

// The rule id of a known-bad feed hit.
inline constexpr std::string_view kBlocklistRule = "intel.blocklist";

struct FlagEntity {
  extract::EntityType type;
  std::string value;  // canonical
  std::string brand;  // the imitated official domain, for lookalike domains
  bool primary = false;
  std::string qualifier;  // bank of an account, cccd/cmnd, platform of a handle or phone
};

// One category's verdict on one event.
struct Finding {
  std::string category;
  std::string subtype;  // from the heaviest positive rule with one; empty when none has
  int score = 0;        // raw_score clamped to 0..100
  int raw_score = 0;    // the sum of the hits' weights (counter-signals negative)
  std::vector<RuleHit> hits;
  std::vector<FlagEntity> entities;  // the primary entity first
  std::vector<Evidence> evidence;
};

// The severity of a flag's score under the pack's bands.
std::string_view severity_for(int score, const SeverityThresholds& thresholds = {});

// Runs every content rule of a pack over one event. Pure: no I/O, no clocks; the same event
// and pack always give the same findings in the same order.
// Lifecycle: one per processing thread (it reuses its buffers); not thread-safe.
class Detector {
 public:
  explicit Detector(std::shared_ptr<const RulePack> pack);
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  const RulePack& pack() const { return *pack_; }

  // Known-bad domains to check links against (null: none). Owned by the caller, who changes
  // it only between batches, never during detect().
  void set_blocklist(std::shared_ptr<const Blocklist> blocklist) { blocklist_ = std::move(blocklist); }

  // Appends one Finding per category whose score reaches its threshold.
  void detect(const Event& event, std::vector<Finding>& out);

  // Of the last detect(): every entity found in the event (text and structured fields), and
  // the registrable domains that imitate a brand with the brand's official domain. Stage A
  // turns them into observations for stage B.
  struct Imitation {
    std::string domain;
    std::string brand;
  };
  const extract::EntityList& entities() const { return entities_; }
  const std::vector<Imitation>& lookalikes() const { return lookalikes_; }

 private:
  // The fraud_link signals of the post's links: known-bad feeds, brand lookalikes, URL rules.
  // `links` is the fraud_link category's finding.
  void detect_links(const Event& event, Finding& links);
  void add_phrase_hit(const PhraseRule& rule);

  std::shared_ptr<const RulePack> pack_;
  std::shared_ptr<const Blocklist> blocklist_;
  const Confusables* confusables_ = nullptr;  // null: ICU's spoof checker is unavailable
  std::unique_ptr<PhraseMatcher::Scratch> scratch_;
  std::vector<PhraseMatcher::Match> matches_;
  std::vector<char> quoted_;                      // per flat phrase: already quoted in the current post
  std::vector<char> fired_;                       // per phrase rule, of the current post
  std::vector<Finding> by_category_;              // per category of the pack, of the current post
  std::vector<char> negated_;                     // per match, of negatable rules
  std::vector<char> phrase_negatable_;            // per flat phrase: its rule is negatable
  std::vector<std::size_t> rules_with_partners_;  // phrase rules with `with`, in pack order
  std::vector<std::size_t> deferred_rules_;       // phrase rules with defanged_links_only, in pack order
  // Of the current post: every link behind a fraud_link signal is written defanged.
  bool links_defanged_ = false;
  // Phrase matches of the post (source byte spans), quoted only for categories that flag.
  struct PendingQuote {
    const PhraseRule* rule;
    std::uint32_t phrase;  // flat index: orders quotes that start together
    std::size_t begin;
    std::size_t end;
  };
  std::vector<PendingQuote> pending_;
  // Hits of phrase rules, by index into their category's hits: filled in if it flags.
  std::vector<std::pair<const PhraseRule*, std::size_t>> phrase_hits_;
  text::Folded folded_;
  extract::EntityList entities_;
  std::vector<Imitation> lookalikes_;
  Finding links_;  // detect_links' own signals before they join the fraud_link finding
  // By host: registrable domain, official or not, brand lookalike, URL-rule candidates.
  struct HostMemo;
  std::unique_ptr<HostMemo> host_memo_;
};

// Whether the phrase match at folded byte `begin` stands right after a negation in the same
// clause: "không", "chưa", "đừng", "chớ", "cấm", "miễn", "tránh", "khỏi", "chẳng", "chả"
// (ambiguous folded words only as written with their diacritics, or without any) at most a few
// words before it, with no punctuation, line break or conjunction ("và", "rồi", "thì", "nhưng",
// "mà", "nên", "vì") in between.
// "nếu không ..." is a condition (a threat: "nếu không chuyển tiền"), not a negation.
bool negated(const text::Folded& folded, std::string_view source, std::size_t begin);

// Damerau-Levenshtein distance (optimal string alignment) between two ASCII strings.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The same over code points (confusable skeletons).
std::size_t edit_distance(std::u32string_view a, std::u32string_view b);

}  // namespace vigil::detect
