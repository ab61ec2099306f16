#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/time.h"

namespace vigil::topology {

// One sighting of one entity in one event: what stage A tells stage B through the
// vigil.observations topic, keyed by entity (observation_key) so that every sighting of an
// entity lands on one partition and one worker. Value: a small JSON object (docs/state.md).
struct Observation {
  std::string type;       // extract::entity_type_name: domain, url, phone, ...
  std::string value;      // canonical (unmasked: the topic is internal; flags mask it again)
  std::string qualifier;  // bank, cccd/cmnd, platform
  std::string brand;      // domains imitating a brand: its official domain
  std::string event_id;
  std::string platform;
  std::string kind;    // post | comment | message | report
  std::string author;  // "<platform>:<id>", unmasked
  std::string permalink;
  TimestampMs event_time = 0;
  std::vector<std::string> flagged;  // categories of the event's content flags
  std::string topic;                 // where the event came from
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  // Keys of the other ring-eligible entities of the event (fraud rings).
  std::vector<std::string> links;

  // Ring messages stage B sends itself through the same topic (docs/state.md), all keyed
  // "ring:coordinator" so that one partition's owner applies them in event-time order:
  // "link" (the entities of one event: `member`, the smallest key, and `links`, the others;
  // `member_flagged` if the event was flagged; the event's time and source travel along) and
  // "wm" (the observations partition `from_partition` will send no more links older than
  // `event_time`). Empty for observations.
  std::string msg;
  std::string member;
  bool member_flagged = false;
  std::int32_t from_partition = -1;

  void clear();
};

// "domain:vietcombank-khuyenmai.top": the record key and the state key of an entity.
std::string observation_key(std::string_view type, std::string_view value);

void encode_observation(const Observation& o, std::string& out);

// Parses observation values (simdjson On-Demand over a reused padded buffer). Unknown fields
// are ignored so stage A can add fields before stage B reads them.
// Lifecycle: one per processing thread; not thread-safe.
class ObservationParser {
 public:
  ObservationParser();
  ~ObservationParser();
  // kInvalidArgument with the reason when the value is not an observation.
  [[nodiscard]] Status parse(std::string_view json, Observation& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::topology
