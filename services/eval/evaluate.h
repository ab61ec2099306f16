#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/adapters/event.h"
#include "common/core/status.h"
#include "common/detect/rule_pack.h"
#include "common/io/record.h"
#include "services/eval/labelled.h"
#include "services/eval/metrics.h"

namespace vigil::eval {

// What a flag says, as read back from the flag record stage A wrote.
struct FlagSummary {
  std::string category;
  std::string subtype;
  int score = 0;
  struct Rule {
    std::string id;
    int weight = 0;
  };
  std::vector<Rule> rules;
};

// Stage A's verdict on one record.
struct Outcome {
  std::vector<FlagSummary> flags;
  // Categories whose rules fired but whose score stayed below the threshold (so no flag), with
  // that score: what a false negative missed by. Diagnostics only; never counted.
  std::vector<FlagSummary> below_threshold;
  Event event;  // as the record's adapter parsed it: the text and links for error listings

  std::vector<Predicted> predicted() const;
};

// Runs records through topology::StageA, the code vigil-detector runs, with the default input
// bindings (the envelope's topic picks the adapter, as for `vigil-detector --input`), and reads
// the flags it writes. So what is scored is exactly what the detector would publish.
// Lifecycle: one per thread; not thread-safe.
class Evaluator {
 public:
  explicit Evaluator(const std::shared_ptr<const detect::RulePack>& pack);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // An error when stage A dead-letters the record (the message gives the dead-letter reason
  // and detail) or skips it as carrying nothing to analyse: a labelled record must be a post.
  [[nodiscard]] Status evaluate(const io::Record& record, Outcome& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One evaluated line of a labelled file.
struct RecordResult {
  std::size_t line = 0;
  LabelledRecord labelled;
  Outcome outcome;
};

struct FileResult {
  std::string path;
  Scoreboard board;
  std::vector<RecordResult> records;
};

// Reads a labelled file (plain, .gz or .zst; blank lines are ignored) and scores every record.
// Any line that does not parse, or whose record stage A rejects, is an error
// "<path>:<line>: <reason>"; an unreadable file is an error naming it.
Result<FileResult> evaluate_file(const std::string& path, LabelledParser& parser, Evaluator& evaluator);

}  // namespace vigil::eval
