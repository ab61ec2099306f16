#include "services/detector/summary.h"

#include <cstdio>

namespace vigil::detector {
namespace {

std::string line(const char* fmt, const std::string& a, std::size_t n) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a.c_str(), n);
  return buf;
}

}  // namespace

std::string format_summary(const topology::Stats& s, const RunDescription& run) {
  std::string out;
  char buf[512];
  std::string inputs;
  for (const auto& i : run.inputs) inputs += (inputs.empty() ? "" : ", ") + i;
  std::snprintf(buf, sizeof buf, "vigil-detector: %zu records from %s in %.2f s (rule pack %s)\n", s.records,
                inputs.c_str(), run.seconds, run.rule_pack.c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "  events analysed: %zu, skipped (nothing to analyse): %zu\n", s.events, s.skipped);
  out += buf;
  std::snprintf(buf, sizeof buf, "  flags: %zu -> %s\n", s.flags, run.flags_destination.c_str());
  out += buf;
  for (const auto& [category, n] : s.flags_by_category) out += line("    %-16s %zu\n", category, n);
  if (!s.first_flags.empty()) {
    out += s.flags > s.first_flags.size() ? "  first flags:\n" : "  flagged:\n";
    for (const auto& f : s.first_flags) {
      std::snprintf(buf, sizeof buf, "    %-8s %-13s %-28s %s  [%s]\n", f.severity.c_str(), f.category.c_str(),
                    f.key.c_str(), f.reason.c_str(), f.source.c_str());
      out += buf;
    }
  }
  std::snprintf(buf, sizeof buf, "  dead letters: %zu -> %s\n", s.dead_letters(), run.dlq_destination.c_str());
  out += buf;
  for (const auto& [reason, n] : s.dead_letters_by_reason) out += line("    %-16s %zu\n", reason, n);
  return out;
}

}  // namespace vigil::detector
