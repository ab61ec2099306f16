#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/status.h"
#include "common/io/record.h"
#include "common/io/source.h"
#include "services/tail/filter.h"
#include "services/tail/table.h"

namespace vigil::tail {

// Where printed flags go. Code::kNotFound from write() means the reader went away (a closed
// pipe, as with `vigil-tail | head`): the tail then ends normally.
class Writer {
 public:
  virtual ~Writer() = default;
  [[nodiscard]] virtual Status write(std::string_view text) = 0;
};

// Writes to a file descriptor (stdout), retrying short writes.
class FdWriter final : public Writer {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  [[nodiscard]] Status write(std::string_view text) override;

 private:
  int fd_;
};

struct TailOptions {
  Filter filter;
  bool table = false;  // else JSON Lines: each flag value byte for byte
  TableStyle style;
  std::optional<std::uint64_t> count;  // stop after this many printed flags
  bool commit = false;                 // commit the source's offsets after each printed batch (--group)
  std::size_t batch_records = 500;
  std::chrono::milliseconds poll_wait{200};
  // Warnings about skipped records; stderr unless set (tests capture them).
  std::function<void(const std::string&)> warn;
};

struct TailStats {
  std::uint64_t records = 0;    // read from the source
  std::uint64_t printed = 0;    // matched the filter and written
  std::uint64_t malformed = 0;  // skipped: not a flag
};

// Reads flag records from a source, keeps those the filter matches and prints them, until
// `stop` is set, --count flags were printed, or a finite source (files) ends.
// Lifecycle: one per run, on the main thread.
class Tail {
 public:
  Tail(io::Source& source, Writer& writer, TailOptions options);

  // Ok also when stopped by `stop`, the count, or a closed output; an error when the source
  // or the output fails.
  [[nodiscard]] Status run(const std::atomic<bool>& stop);

  const TailStats& stats() const { return stats_; }

  // Applies the filter to one record and appends its output to `out`; false when it did not
  // match or was malformed (counted and warned about).
  bool process(const io::Record& record, std::string& out);

 private:
  void warn_malformed(const io::Record& record, const Status& why);

  io::Source& source_;
  Writer& writer_;
  TailOptions options_;
  TailStats stats_;
  FlagParser parser_;
  FlagView flag_;
};

}  // namespace vigil::tail
