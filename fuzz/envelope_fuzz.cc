// Archive lines: decoding never crashes, and whatever decodes re-encodes to a line that
// decodes to the same record (archives round-trip losslessly).
#include <cstddef>
#include <cstdint>

#include "common/io/envelope.h"

namespace {
bool same(const vigil::io::Record& a, const vigil::io::Record& b) {
  if (a.topic != b.topic || a.partition != b.partition || a.offset != b.offset || a.timestamp != b.timestamp ||
      a.key != b.key || a.value != b.value || a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].key != b.headers[i].key || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static vigil::io::EnvelopeDecoder decoder;
  vigil::io::Record first;
  if (!decoder.decode(std::string_view(reinterpret_cast<const char*>(data), size), first).is_ok()) return 0;
  std::string line;
  vigil::io::append_envelope(first, line);
  vigil::io::Record second;
  if (!decoder.decode(line, second).is_ok() || !same(first, second)) __builtin_trap();
  return 0;
}
