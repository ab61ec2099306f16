#pragma once

#include <string>
#include <vector>

#include "common/topology/stage_a.h"

namespace vigil::detector {

struct RunDescription {
  std::vector<std::string> inputs;  // archive paths or topics
  std::string flags_destination;    // file path or "flags.<category> topics"
  std::string dlq_destination;
  std::string rule_pack;
  double seconds = 0;
};

// The short report printed when a run ends: what was read, flagged and dead-lettered, and where.
std::string format_summary(const topology::Stats& stats, const RunDescription& run);

}  // namespace vigil::detector
