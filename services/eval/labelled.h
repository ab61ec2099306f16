#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/detect/rule_pack.h"
#include "common/io/envelope.h"
#include "common/io/record.h"
#include "services/eval/metrics.h"

namespace vigil::eval {

// The categories of a rule pack, each with the subtypes its rules name: what a label may say.
struct Taxonomy {
  struct Category {
    std::string name;
    std::vector<std::string> subtypes;  // in the order the pack's rules first name them
  };
  std::vector<Category> categories;

  static Taxonomy of(const detect::RulePack& pack);
  const Category* find(std::string_view category) const;
  // Each category followed by its subtypes: the rows of every table.
  std::vector<RowKey> rows() const;
};

// One line of a labelled file (format: tests/data/labelled/README.md).
struct LabelledRecord {
  Verdict truth;
  std::string note;
  io::Record record;  // decoded from the kcat envelope under "record"
};

// Parses labelled lines against the categories and subtypes of one pack, so that a label the
// pack cannot produce (a typo, a subtype of another category) is an error, not a silent miss.
// Lifecycle: one per thread (it reuses a simdjson parser).
class LabelledParser {
 public:
  explicit LabelledParser(Taxonomy taxonomy);
  ~LabelledParser();
  LabelledParser(const LabelledParser&) = delete;
  LabelledParser& operator=(const LabelledParser&) = delete;

  // An error message says what is wrong with the line, without its location.
  [[nodiscard]] Status parse(std::string_view line, LabelledRecord& out);

  const Taxonomy& taxonomy() const { return taxonomy_; }

 private:
  struct Impl;
  Taxonomy taxonomy_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::eval
