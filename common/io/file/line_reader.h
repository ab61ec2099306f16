#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/core/status.h"

namespace vigil::io {

// Reads lines from a plain, gzip or zstd file (detected by magic bytes).
// Lifecycle: owned by one reader thread.
class LineReader {
 public:
  virtual ~LineReader() = default;
  // Sets `line` (without '\n') and returns true, or returns false at the end of the file.
  virtual bool next(std::string& line) = 0;
  // A decompression or read error seen so far.
  virtual Status status() const = 0;
  // Bytes taken from the file so far (compressed bytes for .gz/.zst): progress against its size.
  virtual std::uint64_t bytes_read() const = 0;
};

Result<std::unique_ptr<LineReader>> open_line_reader(const std::string& path);

}  // namespace vigil::io
