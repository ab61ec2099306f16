#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"
#include "common/io/record.h"

namespace vigil::io {

// The archive line format: the JSON object `kcat -C -J` prints for each record,
//   {"topic":..,"partition":..,"offset":..,"tstype":"create","ts":..,"broker":..,
//    "headers":["k","v",...],"key":..,"payload":..}
// Values that are not valid UTF-8 are written base64 with "key_encoding"/"payload_encoding":
// "base64" beside them, so archives round-trip any bytes; kcat's own files read as they are.

// Appends one line (without the newline) for `record`.
void append_envelope(const Record& record, std::string& out);

// Parses one envelope line. Lifecycle: one decoder per thread (it reuses a simdjson parser).
class EnvelopeDecoder {
 public:
  EnvelopeDecoder();
  ~EnvelopeDecoder();
  EnvelopeDecoder(const EnvelopeDecoder&) = delete;
  EnvelopeDecoder& operator=(const EnvelopeDecoder&) = delete;

  Status decode(std::string_view line, Record& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::io
