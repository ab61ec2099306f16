#pragma once

#include <string>

#include "common/adapters/event.h"
#include "common/core/time.h"
#include "common/detect/detector.h"

namespace vigil::detect {

// A flag serialised for the flags.<category> topic (schema: schemas/flag.schema.json).
struct RenderedFlag {
  std::string flag_id;
  std::string key;    // the primary entity (masked when it is personal)
  std::string value;  // JSON
  std::string category;
  std::string severity;
};

struct RenderOptions {
  TimestampMs detected_at = 0;
  bool expose_pii = false;  // add full values of personal entities beside the masked ones
};

// flag_id is a hash of category, primary entity and event id: a replay of the same input
// gives the same id whatever the offsets, the clock or the rule-pack version.
std::string flag_id_for(const Finding& finding, const Event& event);

void render_flag(const Finding& finding, const Event& event, const RulePack& pack, const RenderOptions& options,
                 RenderedFlag& out);

}  // namespace vigil::detect
