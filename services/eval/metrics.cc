#include "services/eval/metrics.h"

#include <algorithm>
#include <cstdio>

namespace vigil::eval {
namespace {

// Floors are compared on counts, not on rounded ratios: 19 of 20 meets a 0.95 floor exactly.
constexpr double kEpsilon = 1e-9;

bool below(std::size_t hits, std::size_t total, double floor) {
  return static_cast<double>(hits) + kEpsilon < floor * static_cast<double>(total);
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string floor_text(double floor) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", floor);
  return buf;
}

}  // namespace

std::optional<double> Counts::precision() const {
  if (tp + fp == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + fp);
}

std::optional<double> Counts::recall() const {
  if (tp + fn == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + fn);
}

Counts& Counts::operator+=(const Counts& other) {
  tp += other.tp;
  fp += other.fp;
  fn += other.fn;
  return *this;
}

Scoreboard::Scoreboard(std::vector<RowKey> rows) {
  rows_.reserve(rows.size());
  for (auto& key : rows) rows_.push_back(Row{std::move(key), {}});
}

void Scoreboard::add(const Verdict& truth, const std::vector<Predicted>& predicted) {
  ++records_;
  if (truth.categories.empty()) ++negatives_;
  for (auto& row : rows_) {
    const RowKey& k = row.key;
    const bool labelled = contains(truth.categories, k.category) && (k.subtype.empty() || truth.subtype == k.subtype);
    const bool flagged = std::any_of(predicted.begin(), predicted.end(), [&](const Predicted& p) {
      return p.category == k.category && (k.subtype.empty() || p.subtype == k.subtype);
    });
    if (labelled && flagged) ++row.counts.tp;
    if (!labelled && flagged) ++row.counts.fp;
    if (labelled && !flagged) ++row.counts.fn;
  }
}

void Scoreboard::merge(const Scoreboard& other) {
  for (const auto& o : other.rows_) {
    auto it = std::find_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.key == o.key; });
    if (it == rows_.end()) {
      rows_.push_back(o);
    } else {
      it->counts += o.counts;
    }
  }
  records_ += other.records_;
  negatives_ += other.negatives_;
}

const Counts* Scoreboard::find(const RowKey& key) const {
  for (const auto& row : rows_) {
    if (row.key == key) return &row.counts;
  }
  return nullptr;
}

std::vector<std::string> below_floors(const Scoreboard& board, const Floors& floors, std::string_view scope) {
  std::vector<std::string> out;
  for (const auto& row : board.rows()) {
    if (!row.key.subtype.empty()) continue;
    const Counts& c = row.counts;
    const std::string prefix = std::string(scope) + ": " + row.key.name();
    if (c.tp + c.fp > 0 && below(c.tp, c.tp + c.fp, floors.min_precision)) {
      out.push_back(prefix + " precision " + format_ratio(c.precision()) + " (" + std::to_string(c.tp) + "/" +
                    std::to_string(c.tp + c.fp) + ") < " + floor_text(floors.min_precision));
    }
    if (c.tp + c.fn > 0 && below(c.tp, c.tp + c.fn, floors.min_recall)) {
      out.push_back(prefix + " recall " + format_ratio(c.recall()) + " (" + std::to_string(c.tp) + "/" +
                    std::to_string(c.tp + c.fn) + ") < " + floor_text(floors.min_recall));
    }
  }
  return out;
}

std::string format_ratio(std::optional<double> value) {
  if (!value) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *value);
  return buf;
}

}  // namespace vigil::eval
