#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/core/config.h"
#include "common/core/status.h"
#include "common/io/kafka/kafka_io.h"
#include "services/tail/options.h"

namespace vigil::tail {

struct KafkaPlan {
  io::KafkaSourceOptions source;
  std::string description;  // "following 2 topics (flags.a, flags.b) from the end", for stderr
};

// Which topics to follow and where to start, asking the cluster (topic names, offsets by
// time). A missing topic, or no flag topic at all, is Code::kNotFound with a message saying
// what to give instead.
//
// Without --group every partition is assigned at a concrete offset looked up now: the first
// record stamped at or after `now` (the end, in effect), at or after --since, or the beginning.
// With --group, partitions the group has no committed offset for are set to that same start
// (the group's offsets are altered before joining), so a new group starts where a group-less
// tail would; partitions it has offsets for resume there.
[[nodiscard]] Result<KafkaPlan> plan_kafka(const Args& args, const DetectorConfig& config,
                                           const std::map<std::string, std::string>& properties, TimestampMs now);

}  // namespace vigil::tail
