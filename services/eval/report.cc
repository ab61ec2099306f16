#include "services/eval/report.h"

#include <algorithm>
#include <cstdio>

namespace vigil::eval {
namespace {

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string flag_text(const FlagSummary& f) {
  std::string out = f.category;
  if (!f.subtype.empty()) out += "/" + f.subtype;
  out += " score " + std::to_string(f.score) + " [";
  for (std::size_t i = 0; i < f.rules.size(); ++i) {
    if (i > 0) out += ", ";
    out += f.rules[i].id + (f.rules[i].weight >= 0 ? " +" : " ") + std::to_string(f.rules[i].weight);
  }
  return out + "]";
}

// One line of text however it was written: listings stay one record per block.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  return out;
}

void append_record(std::string& out, std::string_view kind, std::string_view what, const FileResult& file,
                   const RecordResult& r) {
  out += std::string(kind) + " " + std::string(what) + "  " + file.path + ":" + std::to_string(r.line);
  if (!r.labelled.note.empty()) out += "  (" + r.labelled.note + ")";
  out += "\n";
  if (r.outcome.flags.empty()) {
    out += "    flags: none\n";
  } else {
    for (const auto& f : r.outcome.flags) out += "    flag: " + flag_text(f) + "\n";
  }
  for (const auto& f : r.outcome.below_threshold) out += "    below threshold: " + flag_text(f) + "\n";
  out += "    text: " + one_line(r.outcome.event.text) + "\n";
  for (const auto& url : r.outcome.event.urls) out += "    link: " + url + "\n";
  for (const auto& phone : r.outcome.event.phones) out += "    phone: " + phone + "\n";
}

}  // namespace

std::string format_table(const Scoreboard& board, std::string_view title) {
  std::string out(title);
  out += ": " + std::to_string(board.records()) + " records, " + std::to_string(board.negatives()) + " negatives\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-26s %5s %5s %5s  %9s  %6s\n", "category", "TP", "FP", "FN", "precision",
                "recall");
  out += line;
  for (const auto& row : board.rows()) {
    const Counts& c = row.counts;
    const std::string name = row.key.subtype.empty() ? row.key.category : "  " + row.key.subtype;
    std::snprintf(line, sizeof line, "  %-26s %5zu %5zu %5zu  %9s  %6s\n", name.c_str(), c.tp, c.fp, c.fn,
                  format_ratio(c.precision()).c_str(), format_ratio(c.recall()).c_str());
    out += line;
  }
  return out;
}

std::string format_errors(const FileResult& file) {
  std::string out;
  for (const auto& r : file.records) {
    const Verdict& truth = r.labelled.truth;
    for (const auto& row : file.board.rows()) {
      if (!row.key.subtype.empty()) continue;
      const std::string& category = row.key.category;
      const bool labelled = contains(truth.categories, category);
      const FlagSummary* flag = nullptr;
      for (const auto& f : r.outcome.flags) {
        if (f.category == category) flag = &f;
      }
      if (labelled && flag == nullptr) {
        append_record(out, "FN", truth.subtype.empty() ? category : category + "/" + truth.subtype, file, r);
      } else if (!labelled && flag != nullptr) {
        append_record(out, "FP", category, file, r);
      } else if (labelled && !truth.subtype.empty() && flag->subtype != truth.subtype &&
                 std::any_of(file.board.rows().begin(), file.board.rows().end(), [&](const Scoreboard::Row& s) {
                   return s.key.category == category && s.key.subtype == truth.subtype;
                 })) {
        append_record(out, "SUBTYPE",
                      category + "/" + truth.subtype + " flagged as " +
                          (flag->subtype.empty() ? std::string("no subtype") : flag->subtype),
                      file, r);
      }
    }
  }
  return out;
}

}  // namespace vigil::eval
