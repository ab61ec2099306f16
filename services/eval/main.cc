// vigil-eval: parses flags, scores labelled files with the detector's stage A, prints tables.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "common/cli/cli.h"
#include "common/detect/rule_pack.h"
#include "services/eval/evaluate.h"
#include "services/eval/labelled.h"
#include "services/eval/report.h"

namespace {

constexpr char kTool[] = "vigil-eval";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Vigil evaluation: runs labelled records through the detector's stage A and prints, per category and\n"
      "subtype, true/false positives, false negatives, precision and recall for each file and all together.\n\n"
      "  vigil-eval tests/data/labelled/tune.jsonl tests/data/labelled/held_out.jsonl\n"
      "  vigil-eval --show-errors --rules my-pack.yaml tests/data/labelled/tune.jsonl\n\n"
      "Label format: tests/data/labelled/README.md. The floors apply to every category row (not to\n"
      "subtypes) of every table.\n\n"
      "Exit codes: 0 every category meets the floors, 1 some category is below a floor,\n"
      "2 bad arguments, an unreadable rule pack or file, or a bad line (reported as FILE:LINE: reason).",
      kTool};
  std::vector<std::string> files;
  std::string rules_path;
  std::string log_format;
  vigil::eval::Floors floors;
  bool show_errors = false;
  app.add_option("files", files, "Labelled JSON Lines files (plain, .gz or .zst)")->required();
  app.add_option("--rules", rules_path, "Rule pack YAML (default: the bundled vn-core, as vigil-detector finds it)");
  app.add_option("--min-precision", floors.min_precision, "Precision floor per category")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--min-recall", floors.min_recall, "Recall floor per category")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--show-errors", show_errors,
               "List every false positive and false negative (and wrong subtype) with its note, flags and text");
  vigil::cli::add_log_flag(app, log_format);
  if (const auto done = vigil::cli::parse_command_line(app, argc, argv, log_format, kTool)) return *done;

  if (rules_path.empty()) rules_path = vigil::cli::default_rule_pack();
  auto pack = vigil::detect::load_rule_pack(rules_path);
  if (!pack.is_ok()) return vigil::cli::usage_error(kTool, "rule pack: " + pack.status().message());

  vigil::eval::LabelledParser parser(vigil::eval::Taxonomy::of(*pack.value()));
  vigil::eval::Evaluator evaluator(pack.value());
  vigil::eval::Scoreboard combined(parser.taxonomy().rows());
  std::vector<std::string> failures;
  std::cout << kTool << ": rule pack " << pack.value()->qualified_version() << " (" << rules_path << ")\n";
  for (const auto& path : files) {
    auto result = vigil::eval::evaluate_file(path, parser, evaluator);
    if (!result.is_ok()) {
      std::cout << std::flush;
      std::fprintf(stderr, "%s: %s\n", kTool, result.status().message().c_str());
      return vigil::cli::kExitUsage;
    }
    std::cout << "\n" << vigil::eval::format_table(result.value().board, path);
    if (show_errors) {
      const std::string errors = vigil::eval::format_errors(result.value());
      std::cout << "\n" << (errors.empty() ? "no errors in " + path + "\n" : errors);
    }
    for (auto& f : vigil::eval::below_floors(result.value().board, floors, path)) failures.push_back(std::move(f));
    combined.merge(result.value().board);
  }
  if (files.size() > 1) {
    std::cout << "\n" << vigil::eval::format_table(combined, "all " + std::to_string(files.size()) + " files");
    for (auto& f : vigil::eval::below_floors(combined, floors, "all files")) failures.push_back(std::move(f));
  }

  char floor_line[96];
  std::snprintf(floor_line, sizeof floor_line, "floors: precision >= %.2f, recall >= %.2f per category",
                floors.min_precision, floors.min_recall);
  if (failures.empty()) {
    std::cout << "\n" << floor_line << ": all met\n";
    return vigil::cli::kExitOk;
  }
  std::cout << "\n" << floor_line << ": " << failures.size() << " below\n";
  for (const auto& f : failures) std::cout << "  " << f << "\n";
  std::cout << std::flush;
  std::fprintf(stderr, "%s: %zu categor%s below the floors (see above)\n", kTool, failures.size(),
               failures.size() == 1 ? "y is" : "ies are");
  return vigil::cli::kExitFailure;
}
