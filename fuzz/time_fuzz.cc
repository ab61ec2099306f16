// ISO 8601 parsing: never crashes, and what it accepts formats back to a time it parses to the
// same instant.
#include <cstddef>
#include <cstdint>

#include "common/core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto t = vigil::parse_iso8601(std::string_view(reinterpret_cast<const char*>(data), size));
  if (t && vigil::parse_iso8601(vigil::format_iso8601(*t)) != t) __builtin_trap();
  return 0;
}
