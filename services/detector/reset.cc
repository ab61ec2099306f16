#include "services/detector/reset.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace vigil::detector {

Result<ResetPlan> plan_reset(io::KafkaAdmin& admin, const std::string& group, const std::vector<std::string>& topics,
                             TimestampMs time) {
  ResetPlan plan;
  plan.group = group;
  plan.time = time;
  auto names = admin.topic_names();
  if (!names.is_ok()) return names.status();
  const std::set<std::string> existing(names.value().begin(), names.value().end());
  std::vector<std::string> present;
  for (const auto& t : topics) (existing.count(t) > 0 ? present : plan.missing_topics).push_back(t);
  if (present.empty()) return Status(Code::kNotFound, "none of the group's input topics exists");
  auto description = admin.describe_group(group);
  if (!description.is_ok()) return description.status();
  plan.members = description.value().members;
  plan.state = description.value().state;
  auto targets = admin.offsets_for_time(present, time);
  if (!targets.is_ok()) return targets.status();
  auto committed = admin.committed_offsets(group, present);
  if (!committed.is_ok()) return committed.status();
  for (const auto& t : targets.value()) {
    ResetRow row{t.topic, t.partition, -1, t.offset};
    for (const auto& c : committed.value()) {
      if (c.topic == t.topic && c.partition == t.partition) row.committed = c.offset;
    }
    plan.rows.push_back(row);
  }
  return plan;
}

std::string format_plan(const ResetPlan& plan) {
  std::string out = "reset plan for group " + plan.group + " to " + format_iso8601(plan.time) + " (group state " +
                    plan.state + ", " + std::to_string(plan.members) + " active members)\n";
  std::size_t width = 5;
  for (const auto& r : plan.rows) width = std::max(width, r.topic.size());
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-*s %9s %14s %14s %12s\n", static_cast<int>(width), "topic", "partition",
                "committed", "new offset", "change");
  out += buf;
  for (const auto& r : plan.rows) {
    const std::string committed = r.committed < 0 ? "-" : std::to_string(r.committed);
    const std::string change =
        r.committed < 0 ? "(new)" : (r.target - r.committed >= 0 ? "+" : "") + std::to_string(r.target - r.committed);
    std::snprintf(buf, sizeof buf, "  %-*s %9d %14s %14lld %12s\n", static_cast<int>(width), r.topic.c_str(),
                  r.partition, committed.c_str(), static_cast<long long>(r.target), change.c_str());
    out += buf;
  }
  for (const auto& t : plan.missing_topics) out += "  (topic " + t + " does not exist: left alone)\n";
  return out;
}

Status apply_reset(io::KafkaAdmin& admin, const ResetPlan& plan) {
  if (plan.members > 0) {
    return Status(Code::kUnavailable, "group " + plan.group + " has " + std::to_string(plan.members) +
                                          " active members; stop every detector of the group first (e.g. kubectl "
                                          "scale statefulset/vigil --replicas=0) and run again");
  }
  std::vector<io::TopicPartitionOffset> offsets;
  for (const auto& r : plan.rows) offsets.push_back({r.topic, r.partition, r.target});
  return admin.alter_group_offsets(plan.group, offsets);
}

}  // namespace vigil::detector
