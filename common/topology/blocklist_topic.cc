#include "common/topology/blocklist_topic.h"

namespace vigil::topology {

Result<BlocklistTopic::Counts> BlocklistTopic::poll(io::Source& source, std::chrono::milliseconds wait, std::size_t max,
                                                    const detect::RulePack* pack) {
  records_.clear();
  VIGIL_RETURN_IF_ERROR(source.poll(records_, max, wait));
  Counts counts;
  for (const auto& r : records_) {
    ++counts.records;
    auto& next = next_[{r.topic, r.partition}];
    next = std::max(next, r.offset + 1);
    const std::string where = r.topic + "/" + std::to_string(r.partition) + "@" + std::to_string(r.offset);
    auto update = detect::parse_blocklist_record(r.key, r.value);
    if (!update.is_ok()) {
      ++counts.malformed;
      if (counts.notes.size() < kMaxNotes) counts.notes.push_back(where + ": " + update.status().message());
      continue;
    }
    if (blocklist_.apply(update.value())) ++counts.changed;
    if (!update.value().remove && pack != nullptr && counts.notes.size() < kMaxNotes) {
      const std::string_view official = detect::official_domain_of(update.value().domain, *pack);
      if (!official.empty()) {
        counts.notes.push_back(where + ": " + update.value().domain + " is an official domain of brand " +
                               pack->official.find(official)->second + "; kept, but never flagged");
      }
    }
  }
  return counts;
}

bool BlocklistTopic::reached(const std::vector<io::TopicPartitionOffset>& ends, std::int64_t slack) const {
  for (const auto& end : ends) {
    const auto it = next_.find({end.topic, end.partition});
    // Nothing read yet says nothing (the consumer may still be connecting): no slack then.
    if (it == next_.end()) return false;
    if (it->second < end.offset - slack) return false;
  }
  return true;
}

}  // namespace vigil::topology
