// vigil-tail's flag parser and table line: any bytes either parse into a view the table renders
// as valid UTF-8 (when the input was) or give an error; never a crash.
#include <cstddef>
#include <cstdint>

#include "common/core/json_writer.h"
#include "services/tail/flag.h"
#include "services/tail/table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static vigil::tail::FlagParser parser;
  vigil::tail::FlagView view;
  const vigil::Status st = parser.parse(std::string_view(reinterpret_cast<const char*>(data), size), view);
  if (st.is_ok()) {
    if (view.flag_id.empty() || view.category.empty()) __builtin_trap();
    if (const auto* e = view.main_entity(); e != nullptr && view.entities.empty()) __builtin_trap();
    // The table line stays valid UTF-8 whatever the flag held (cutting is by code point).
    const std::string row = vigil::tail::table_row(view, {false, 60 + static_cast<int>(size % 100)});
    if (!vigil::is_valid_utf8(row) &&
        vigil::is_valid_utf8(std::string_view(reinterpret_cast<const char*>(data), size))) {
      __builtin_trap();
    }
  }
  return 0;
}
