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

void append_dead_letter(const io::Record& in, const std::string& dlq_topic, std::string_view reason,
                        const std::string& detail, TimestampMs now, std::vector<io::Record>& out, Stats& stats) {
  io::Record& r = out.emplace_back();
  r.topic = dlq_topic;
  r.key = in.key;
  r.value = in.value;
  // Wall clock, not the source's time: replayed archives carry old timestamps, and a dead
  // letter stamped with one would fall to time-based retention at once. The source time is
  // kept in the vigil.source.timestamp header.
  r.timestamp = now;
  r.headers = in.headers;
  r.headers.push_back({std::string(kDlqReasonHeader), std::string(reason)});
  r.headers.push_back({std::string(kDlqDetailHeader), detail});
  r.headers.push_back({"vigil.source.topic", in.topic});
  r.headers.push_back({"vigil.source.partition", std::to_string(in.partition)});
  r.headers.push_back({"vigil.source.offset", std::to_string(in.offset)});
  r.headers.push_back({"vigil.source.timestamp", std::to_string(in.timestamp)});
  ++stats.dead_letters_by_reason[std::string(reason)];
}

}  // namespace vigil::topology
