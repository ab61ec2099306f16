#include "common/detect/phrase_matcher.h"

#include <hs.h>

#include <algorithm>
#include <cctype>

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
};

int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int, void* context) {
  auto* ctx = static_cast<ScanContext*>(context);
  const std::string_view t = ctx->text;
  if (const std::uint32_t n = ctx->literal_length[id]; n != 0) from = to - n;
  // Word boundaries are checked here rather than with \b, so that letters of other scripts
  // (bytes >= 0x80 in folded text) count as part of a word, as everywhere else in Vigil.
  const bool left = from == 0 || !text::is_word_byte(t[from - 1]);
  const bool right = to == t.size() || !text::is_word_byte(t[to]);
  if (left && right) ctx->out->push_back({id, static_cast<std::size_t>(from), static_cast<std::size_t>(to)});
  return 0;
}

}  // namespace

PhraseMatcher::~PhraseMatcher() {
  hs_free_database(static_cast<hs_database_t*>(database_));
}

Result<std::unique_ptr<const PhraseMatcher>> PhraseMatcher::compile(const std::vector<std::string>& phrases,
                                                                    const std::vector<bool>& regex) {
  std::unique_ptr<PhraseMatcher> m(new PhraseMatcher());
  m->phrase_count_ = phrases.size();
  if (phrases.empty()) return std::unique_ptr<const PhraseMatcher>(std::move(m));
  std::vector<std::string> patterns;
  std::vector<const char*> expressions;
  std::vector<unsigned int> flags;
  std::vector<unsigned int> ids;
  patterns.reserve(phrases.size());
  for (std::size_t i = 0; i < phrases.size(); ++i) {
    const bool is_regex = i < regex.size() && regex[i];
    if (!is_regex && phrases[i].empty()) return invalid_argument("an empty phrase would match everywhere");
    patterns.push_back(is_regex ? phrases[i] : escape_literal(phrases[i]));
    flags.push_back(is_regex ? HS_FLAG_SOM_LEFTMOST : 0U);
    m->literal_length_.push_back(is_regex ? 0U : static_cast<std::uint32_t>(phrases[i].size()));
    ids.push_back(static_cast<unsigned int>(i));
  }
  for (const auto& p : patterns) expressions.push_back(p.c_str());
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned int>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr ? error->message : "unknown error";
    const int which = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    const bool bad_regex =
        which >= 0 && static_cast<std::size_t>(which) < regex.size() && regex[static_cast<std::size_t>(which)];
    return invalid_argument((bad_regex ? "pattern " : "phrase ") +
                            (which >= 0 ? "'" + phrases[static_cast<std::size_t>(which)] + "'" : std::string("set")) +
                            " does not compile: " + message);
  }
  m->database_ = db;
  return std::unique_ptr<const PhraseMatcher>(std::move(m));
}

PhraseMatcher::Scratch::Scratch(const PhraseMatcher& matcher) {
  if (matcher.database_ == nullptr) return;
  hs_scratch_t* s = nullptr;
  if (hs_alloc_scratch(static_cast<hs_database_t*>(matcher.database_), &s) == HS_SUCCESS) scratch_ = s;
}

PhraseMatcher::Scratch::~Scratch() {
  hs_free_scratch(static_cast<hs_scratch_t*>(scratch_));
}

Status PhraseMatcher::scan(std::string_view text, Scratch& scratch, std::vector<Match>& out) const {
  out.clear();
  if (database_ == nullptr) return Status::ok();
  if (scratch.scratch_ == nullptr) return internal_error("hyperscan scratch was not allocated");
  ScanContext ctx{text, &out, literal_length_.data()};
  const hs_error_t rc =
      hs_scan(static_cast<hs_database_t*>(database_), text.data(), static_cast<unsigned int>(text.size()), 0,
              static_cast<hs_scratch_t*>(scratch.scratch_), on_match, &ctx);
  if (rc != HS_SUCCESS) return internal_error("hyperscan scan failed with code " + std::to_string(rc));
  // Hyperscan reports in order of match end; rules want reading order.
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.phrase < b.phrase;
  });
  return Status::ok();
}

}  // namespace vigil::detect
