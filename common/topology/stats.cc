#include "common/topology/stats.h"

namespace vigil::topology {

std::size_t Stats::dead_letters() const {
  std::size_t n = 0;
  for (const auto& [reason, count] : dead_letters_by_reason) n += count;
  return n;
}

void Stats::merge(const Stats& o) {
  records += o.records;
  for (const auto& [k, v] : o.records_by_topic) records_by_topic[k] += v;
  events += o.events;
  skipped += o.skipped;
  flags += o.flags;
  updates += o.updates;
  observations += o.observations;
  late += o.late;
  restored += o.restored;
  corrupt_state += o.corrupt_state;
  for (const auto& [k, v] : o.flags_by_category) flags_by_category[k] += v;
  for (const auto& [k, v] : o.flags_by_category_severity) flags_by_category_severity[k] += v;
  for (const auto& [k, v] : o.rule_hits) rule_hits[k] += v;
  for (const auto& [k, v] : o.blocklist_hits) blocklist_hits[k] += v;
  for (const auto& [k, v] : o.dead_letters_by_reason) dead_letters_by_reason[k] += v;
  for (const auto& note : o.first_flags) {
    if (first_flags.size() < kMaxNotes) first_flags.push_back(note);
  }
}

}  // namespace vigil::topology
