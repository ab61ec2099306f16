// Observation and ring-message values (the vigil.observations topic, stage B's input): parsing
// never crashes, and whatever parses re-encodes to a value that parses to the same fields.
#include <cstddef>
#include <cstdint>

#include "common/topology/observation.h"

namespace {
bool same(const vigil::topology::Observation& a, const vigil::topology::Observation& b) {
  return a.type == b.type && a.value == b.value && a.qualifier == b.qualifier && a.brand == b.brand &&
         a.event_id == b.event_id && a.platform == b.platform && a.kind == b.kind && a.author == b.author &&
         a.permalink == b.permalink && a.event_time == b.event_time && a.flagged == b.flagged && a.topic == b.topic &&
         a.partition == b.partition && a.offset == b.offset && a.links == b.links && a.msg == b.msg &&
         a.member == b.member && a.member_flagged == b.member_flagged && a.from_partition == b.from_partition;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static vigil::topology::ObservationParser parser;
  vigil::topology::Observation first;
  if (!parser.parse(std::string_view(reinterpret_cast<const char*>(data), size), first).is_ok()) return 0;
  std::string json;
  vigil::topology::encode_observation(first, json);
  vigil::topology::Observation second;
  if (!parser.parse(json, second).is_ok() || !same(first, second)) __builtin_trap();
  return 0;
}
