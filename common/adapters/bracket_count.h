#pragma once

// Private to vigil_adapters: the first read of each record (adapters.cc), which counts its
// opening brackets for the depth limit, and the hook the tests use to compare its two forms.
// Not part of the library's API.

#include <cstddef>
#include <string_view>

namespace vigil::adapters::detail {

// The number of '{' and '[' bytes in json (strings included), 16 bytes at a time.
std::size_t count_opening(std::string_view json);

// Whether this CPU runs copy_counting_opening (AVX-512 F/BW, POPCNT), checked once.
bool copy_counting_supported();

// Copies json to `out`, which has room for json.size() + 64 bytes (the bytes past json.size()
// are overwritten), and returns count_opening(json): one read of the record, whose bytes
// usually come from memory, instead of a count and then a copy. Call only when
// copy_counting_supported().
std::size_t copy_counting_opening(std::string_view json, char* out);

}  // namespace vigil::adapters::detail
