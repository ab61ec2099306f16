#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/status.h"

namespace vigil::detect {

// All phrases of a rule pack compiled into one Hyperscan database, so a post is scanned once
// whatever the number of rules; only a regex pattern that matched is scanned for again, alone,
// to find where its matches start. Matches are whole words of folded text.
// Lifecycle: compiled when a pack loads; immutable and shared by every thread afterwards.
// Each thread scans with its own Scratch.
class PhraseMatcher {
 public:
  struct Match {
    std::uint32_t phrase;  // index into the phrases given to compile()
    std::size_t begin;     // byte offsets in the scanned text
    std::size_t end;
  };

  // Per-thread scanning memory. Lifecycle: created from one matcher, used by one thread at a time.
  class Scratch {
   public:
    explicit Scratch(const PhraseMatcher& matcher);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class PhraseMatcher;
    void* scratch_ = nullptr;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pattern_ends_;  // (expression, end), first scan
    std::vector<std::uint32_t> rescanned_;  // patterns of unbounded width already rescanned whole
  };

  ~PhraseMatcher();
  PhraseMatcher(const PhraseMatcher&) = delete;
  PhraseMatcher& operator=(const PhraseMatcher&) = delete;

  // Phrases are matched literally (already folded by the caller); those whose `regex` flag is
  // set are regular expressions (Hyperscan syntax). Either way a match must be whole words.
  static Result<std::unique_ptr<const PhraseMatcher>> compile(const std::vector<std::string>& phrases,
                                                              const std::vector<bool>& regex = {});

  // Replaces `out` with every whole-word occurrence of every phrase, ordered by begin offset.
  [[nodiscard]] Status scan(std::string_view text, Scratch& scratch, std::vector<Match>& out) const;

  std::size_t size() const { return phrase_count_; }

 private:
  PhraseMatcher() = default;
  void* database_ = nullptr;  // every phrase and pattern, no start-of-match tracking
  // Per expression: the pattern alone with leftmost start tracking (null for a literal).
  std::vector<void*> pattern_databases_;
  // Per expression: the longest match of a pattern in bytes, kUnbounded when it has none.
  static constexpr std::uint32_t kUnbounded = 0xffffffffu;
  std::vector<std::uint32_t> max_width_;
  std::size_t phrase_count_ = 0;
  // Hyperscan's ids are expressions: a phrase that several rules share ("công an") is scanned
  // and reported once, then stands for each of its phrases. Per expression: byte length (0 for
  // a regular expression; nothing in the first database tracks where matches start, as
  // Hyperscan makes that pay, so a literal starts at end - length) and its phrases,
  // expression_phrases_[first_phrase_[id] .. first_phrase_[id + 1]) in ascending order.
  std::vector<std::uint32_t> literal_length_;
  std::vector<std::uint32_t> first_phrase_;
  std::vector<std::uint32_t> expression_phrases_;
};

}  // namespace vigil::detect
