#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::eval {

// True/false positives and false negatives of one row (a category, or a category's subtype).
struct Counts {
  std::size_t tp = 0;
  std::size_t fp = 0;
  std::size_t fn = 0;

  // nullopt when undefined: no record was predicted (precision) or labelled (recall) for the
  // row. An undefined value is neither good nor bad, so floors skip it; the other one of the
  // pair still catches a row that is all misses or all false alarms.
  std::optional<double> precision() const;
  std::optional<double> recall() const;

  Counts& operator+=(const Counts& other);
  bool operator==(const Counts&) const = default;
};

// What one record is labelled, or what the detector said about it: categories, and the subtype
// of the one category that has subtypes (empty when none).
struct Verdict {
  std::vector<std::string> categories;
  std::string subtype;
};

// One flag's category and subtype.
struct Predicted {
  std::string category;
  std::string subtype;
};

// A row of the table: a category (subtype empty) or one of its subtypes.
struct RowKey {
  std::string category;
  std::string subtype;

  bool operator==(const RowKey&) const = default;
  std::string name() const { return subtype.empty() ? category : category + "/" + subtype; }
};

// Counts per row over any number of records. Rows are fixed at construction (the rule pack's
// categories, each followed by its subtypes), so every table has the same rows in the same
// order, including rows no record touched.
class Scoreboard {
 public:
  struct Row {
    RowKey key;
    Counts counts;
  };

  Scoreboard() = default;
  explicit Scoreboard(std::vector<RowKey> rows);

  // A record labelled `truth` for which the detector flagged `predicted`. A record counts as
  // predicted for category C when any flag has category C; for subtype S of C when a flag of C
  // carries S. So a scam flag with the wrong subtype is a TP for "scam" and both an FN (the
  // labelled subtype) and an FP (the flagged one) for the subtypes.
  void add(const Verdict& truth, const std::vector<Predicted>& predicted);
  void merge(const Scoreboard& other);

  const std::vector<Row>& rows() const { return rows_; }
  const Counts* find(const RowKey& key) const;
  std::size_t records() const { return records_; }
  std::size_t negatives() const { return negatives_; }  // records labelled with no category

 private:
  std::vector<Row> rows_;
  std::size_t records_ = 0;
  std::size_t negatives_ = 0;
};

struct Floors {
  double min_precision = 0.95;
  double min_recall = 0.90;
};

// One message per category row (not subtype rows) whose defined precision or recall is below
// its floor, each prefixed with `scope` (e.g. the file name): "tune.jsonl: scam recall 0.850
// (17/20) < 0.90".
std::vector<std::string> below_floors(const Scoreboard& board, const Floors& floors, std::string_view scope);

// "0.957", or "-" when undefined.
std::string format_ratio(std::optional<double> value);

}  // namespace vigil::eval
