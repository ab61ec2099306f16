#include "common/detect/phrase_matcher.h"

#include <hs.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include "common/text/text.h"

namespace vigil::detect {
namespace {

// Hyperscan patterns are regular expressions: escape everything that is not alphanumeric.
std::string escape_literal(std::string_view phrase) {
  std::string out;
  for (char c : phrase) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u) != 0) {
      out.push_back(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

struct ScanContext {
  std::string_view text;
  std::vector<PhraseMatcher::Match>* out;
  const std::uint32_t* literal_length;
  const std::uint32_t* first_phrase;
  const std::uint32_t* expression_phrases;
  // Where patterns matched in the first database: (expression, end offset).
  std::vector<std::pair<std::uint32_t, std::uint32_t>>* pattern_ends;
  bool starts_known = false;  // scanning a database that tracks where its pattern starts
  // Rescanning a window of the text that begins at `offset`: only the match ending at
  // `window_end` (window-relative) is taken.
  std::size_t offset = 0;
  std::size_t window_end = 0;
  bool windowed = false;
};

int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int, void* context) {
  auto* ctx = static_cast<ScanContext*>(context);
  const std::string_view t = ctx->text;
  if (const std::uint32_t n = ctx->literal_length[id]; n != 0) {
    from = to - n;
  } else if (!ctx->starts_known) {
    // The first database does not know where a pattern's match starts: the pattern's own
    // database will say, in a second scan with that pattern alone.
    ctx->pattern_ends->emplace_back(id, static_cast<std::uint32_t>(to));
    return 0;
  } else if (ctx->windowed) {
    if (to != ctx->window_end) return 0;
    from += ctx->offset;
    to += ctx->offset;
  }
  // Word boundaries are checked here rather than with \b, so that letters of other scripts
  // (bytes >= 0x80 in folded text) count as part of a word, as everywhere else in Vigil.
  const bool left = from == 0 || !text::is_word_byte(t[from - 1]);
  const bool right = to == t.size() || !text::is_word_byte(t[to]);
  if (!left || !right) return 0;
  for (std::uint32_t k = ctx->first_phrase[id]; k < ctx->first_phrase[id + 1]; ++k)
    ctx->out->push_back({ctx->expression_phrases[k], static_cast<std::size_t>(from), static_cast<std::size_t>(to)});
  return 0;
}

// Compiles `expressions` (ids and flags alongside) into a block-mode database, or says which
// phrase does not compile (`phrase_of`: an expression id's first phrase).
Result<hs_database_t*> compile_database(const std::vector<const char*>& expressions,
                                        const std::vector<unsigned int>& flags, const std::vector<unsigned int>& ids,
                                        const std::vector<std::uint32_t>& phrase_of,
                                        const std::vector<std::string>& phrases, const std::vector<bool>& regex) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned int>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr ? error->message : "unknown error";
    const int which =
        error != nullptr && error->expression >= 0 ? static_cast<int>(phrase_of[ids[error->expression]]) : -1;
    hs_free_compile_error(error);
    const bool bad_regex =
        which >= 0 && static_cast<std::size_t>(which) < regex.size() && regex[static_cast<std::size_t>(which)];
    return invalid_argument((bad_regex ? "pattern " : "phrase ") +
                            (which >= 0 ? "'" + phrases[static_cast<std::size_t>(which)] + "'" : std::string("set")) +
                            " does not compile: " + message);
  }
  return db;
}

}  // namespace

PhraseMatcher::~PhraseMatcher() {
  hs_free_database(static_cast<hs_database_t*>(database_));
  for (void* db : pattern_databases_) hs_free_database(static_cast<hs_database_t*>(db));
}

Result<std::unique_ptr<const PhraseMatcher>> PhraseMatcher::compile(const std::vector<std::string>& phrases,
                                                                    const std::vector<bool>& regex) {
  std::unique_ptr<PhraseMatcher> m(new PhraseMatcher());
  m->phrase_count_ = phrases.size();
  if (phrases.empty()) return std::unique_ptr<const PhraseMatcher>(std::move(m));
  // Every phrase and pattern goes into the first database without start-of-match tracking:
  // for patterns it costs more than all literals together, as every digit may start one.
  // Only a pattern that matched scans the text again, alone in a database of its own with
  // leftmost start tracking, to say where its matches begin: some patterns (prices, job ads)
  // match in most posts, and one database of all patterns with start tracking cost 6 µs a post.
  // Expressions by first phrase: a literal that several phrases share is one expression.
  std::vector<std::string> patterns;
  std::vector<std::vector<std::uint32_t>> phrases_of;
  std::map<std::string_view, std::size_t> literal_expression;
  for (std::size_t i = 0; i < phrases.size(); ++i) {
    const bool is_regex = i < regex.size() && regex[i];
    if (!is_regex && phrases[i].empty()) return invalid_argument("an empty phrase would match everywhere");
    if (!is_regex) {
      const auto [it, added] = literal_expression.emplace(phrases[i], patterns.size());
      if (!added) {
        phrases_of[it->second].push_back(static_cast<std::uint32_t>(i));
        continue;
      }
    }
    patterns.push_back(is_regex ? phrases[i] : escape_literal(phrases[i]));
    phrases_of.push_back({static_cast<std::uint32_t>(i)});
    m->literal_length_.push_back(is_regex ? 0U : static_cast<std::uint32_t>(phrases[i].size()));
  }
  std::vector<const char*> expressions;
  std::vector<unsigned int> flags;
  std::vector<unsigned int> ids;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    m->first_phrase_.push_back(static_cast<std::uint32_t>(m->expression_phrases_.size()));
    m->expression_phrases_.insert(m->expression_phrases_.end(), phrases_of[i].begin(), phrases_of[i].end());
    expressions.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned int>(i));
    flags.push_back(0U);
  }
  m->first_phrase_.push_back(static_cast<std::uint32_t>(m->expression_phrases_.size()));
  std::vector<std::uint32_t> phrase_of;
  for (const auto& of : phrases_of) phrase_of.push_back(of.front());
  auto db = compile_database(expressions, flags, ids, phrase_of, phrases, regex);
  if (!db.is_ok()) return db.status();
  m->database_ = db.value();
  m->pattern_databases_.assign(patterns.size(), nullptr);
  m->max_width_.assign(patterns.size(), 0);
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    if (m->literal_length_[i] != 0) continue;
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_expression_info(patterns[i].c_str(), 0, &info, &error) != HS_SUCCESS) {
      hs_free_compile_error(error);
      return invalid_argument("pattern '" + phrases[phrase_of[i]] + "' does not compile");
    }
    m->max_width_[i] = info->max_width >= kUnbounded ? kUnbounded : info->max_width;
    std::free(info);  // allocated with the default misc allocator, malloc
    auto pattern_db = compile_database({patterns[i].c_str()}, {HS_FLAG_SOM_LEFTMOST}, {static_cast<unsigned int>(i)},
                                       phrase_of, phrases, regex);
    if (!pattern_db.is_ok()) return pattern_db.status();
    m->pattern_databases_[i] = pattern_db.value();
  }
  return std::unique_ptr<const PhraseMatcher>(std::move(m));
}

PhraseMatcher::Scratch::Scratch(const PhraseMatcher& matcher) {
  if (matcher.database_ == nullptr) return;
  hs_scratch_t* s = nullptr;
  // One scratch serves every database (hs_alloc_scratch grows it to fit each).
  if (hs_alloc_scratch(static_cast<hs_database_t*>(matcher.database_), &s) != HS_SUCCESS) return;
  for (void* db : matcher.pattern_databases_) {
    if (db != nullptr && hs_alloc_scratch(static_cast<hs_database_t*>(db), &s) != HS_SUCCESS) {
      hs_free_scratch(s);
      return;
    }
  }
  scratch_ = s;
}

PhraseMatcher::Scratch::~Scratch() {
  hs_free_scratch(static_cast<hs_scratch_t*>(scratch_));
}

Status PhraseMatcher::scan(std::string_view text, Scratch& scratch, std::vector<Match>& out) const {
  out.clear();
  if (database_ == nullptr) return Status::ok();
  if (scratch.scratch_ == nullptr) return internal_error("hyperscan scratch was not allocated");
  scratch.pattern_ends_.clear();
  ScanContext ctx{
      text, &out, literal_length_.data(), first_phrase_.data(), expression_phrases_.data(), &scratch.pattern_ends_};
  const hs_error_t rc =
      hs_scan(static_cast<hs_database_t*>(database_), text.data(), static_cast<unsigned int>(text.size()), 0,
              static_cast<hs_scratch_t*>(scratch.scratch_), on_match, &ctx);
  if (rc != HS_SUCCESS) return internal_error("hyperscan scan failed with code " + std::to_string(rc));
  // Each match of a pattern again, with its start: a pattern of bounded width is rescanned over
  // the window that can hold a match ending there (its leftmost start lies inside), one of
  // unbounded width over the whole text, once.
  ctx.starts_known = true;
  std::vector<std::uint32_t>& whole = scratch.rescanned_;
  whole.clear();
  for (const auto& [id, end] : scratch.pattern_ends_) {
    const auto* db = static_cast<hs_database_t*>(pattern_databases_[id]);
    const std::uint32_t width = max_width_[id];
    ctx.windowed = width != kUnbounded;
    std::size_t begin = 0;
    std::size_t length = text.size();
    if (ctx.windowed) {
      begin = end > width ? end - width : 0;
      length = end - begin;
      ctx.offset = begin;
      ctx.window_end = length;
    } else if (std::find(whole.begin(), whole.end(), id) != whole.end()) {
      continue;
    } else {
      whole.push_back(id);
    }
    const hs_error_t prc = hs_scan(db, text.data() + begin, static_cast<unsigned int>(length), 0,
                                   static_cast<hs_scratch_t*>(scratch.scratch_), on_match, &ctx);
    if (prc != HS_SUCCESS) return internal_error("hyperscan scan failed with code " + std::to_string(prc));
  }
  // Hyperscan reports in order of match end; rules want reading order. Matches ending in
  // order mostly start in order too: an insertion sort moves the few nested ones (as std::sort
  // does for so few, without its dispatch).
  const auto before = [](const Match& a, const Match& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.phrase < b.phrase;
  };
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (!before(out[i], out[i - 1])) continue;
    const Match m = out[i];
    std::size_t j = i;
    for (; j > 0 && before(m, out[j - 1]); --j) out[j] = out[j - 1];
    out[j] = m;
  }
  return Status::ok();
}

}  // namespace vigil::detect
