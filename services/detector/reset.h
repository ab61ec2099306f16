#pragma once

#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"
#include "common/io/kafka/admin.h"

namespace vigil::detector {

// One partition of a --reset-to plan.
struct ResetRow {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t committed = -1;  // -1: the group has no offset there yet
  std::int64_t target = 0;      // first record at or after the time (or the end)
};

struct ResetPlan {
  std::string group;
  TimestampMs time = 0;
  std::vector<ResetRow> rows;
  std::vector<std::string> missing_topics;  // configured inputs that do not exist (left alone)
  int members = 0;                          // active members: the reset is refused unless 0
  std::string state;
};

// Works out where `group` would restart on every partition of `topics` for `time`.
// Lifecycle: a start-up action; nothing is changed.
Result<ResetPlan> plan_reset(io::KafkaAdmin& admin, const std::string& group, const std::vector<std::string>& topics,
                             TimestampMs time);

// The plan as a table: topic, partition, committed -> target, and how many records that
// re-reads (or skips).
std::string format_plan(const ResetPlan& plan);

// Moves the offsets. Refuses (kUnavailable) when the group has members: offsets of a live
// group would be overwritten by its next commit anyway.
Status apply_reset(io::KafkaAdmin& admin, const ResetPlan& plan);

}  // namespace vigil::detector
