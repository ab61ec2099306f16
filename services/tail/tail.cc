#include "services/tail/tail.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace vigil::tail {
namespace {

// Past this many warnings only every 1000th malformed record is reported: a topic full of
// garbage must not bury the flags on the terminal.
constexpr std::uint64_t kWarnEach = 10;

std::string where(const io::Record& r) {
  // The file source names undecodable lines "file:<path>" with the line number as offset.
  if (r.topic.starts_with("file:")) return r.topic.substr(5) + " line " + std::to_string(r.offset);
  return r.topic + "/" + std::to_string(r.partition) + "@" + std::to_string(r.offset);
}

}  // namespace

Status FdWriter::write(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return Status(Code::kNotFound, "output closed");
      return io_error(std::string("write to stdout: ") + std::strerror(errno));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

Tail::Tail(io::Source& source, Writer& writer, TailOptions options)
    : source_(source), writer_(writer), options_(std::move(options)) {
  if (!options_.warn) {
    options_.warn = [](const std::string& line) { std::fprintf(stderr, "vigil-tail: %s\n", line.c_str()); };
  }
}

void Tail::warn_malformed(const io::Record& record, const Status& why) {
  ++stats_.malformed;
  if (stats_.malformed > kWarnEach && stats_.malformed % 1000 != 0) return;
  options_.warn("skipped a record that is not a flag at " + where(record) + ": " + why.message() + " (" +
                std::to_string(stats_.malformed) + " skipped so far)");
}

bool Tail::process(const io::Record& record, std::string& out) {
  ++stats_.records;
  if (!record.value) {
    warn_malformed(record, invalid_argument("malformed flag: the record has no value"));
    return false;
  }
  // A file line that is no envelope may be a plain flag line; its raw text is in `value`.
  const bool plain_line = !record.source_error.empty();
  if (const Status st = parser_.parse(*record.value, flag_); !st.is_ok()) {
    warn_malformed(record, plain_line ? Status(st.code(), "neither an archive envelope nor a flag (" +
                                                              record.source_error + "; " + st.message() + ")")
                                      : st);
    return false;
  }
  const std::optional<TimestampMs> timestamp = plain_line || record.timestamp_type == io::TimestampType::kNone
                                                   ? std::nullopt
                                                   : std::optional<TimestampMs>(record.timestamp);
  if (!options_.filter.matches(flag_, timestamp)) return false;
  if (options_.table) {
    out += table_row(flag_, options_.style);
  } else {
    out += *record.value;
    out += '\n';
  }
  ++stats_.printed;
  return true;
}

Status Tail::run(const std::atomic<bool>& stop) {
  if (options_.count && *options_.count == 0) return Status::ok();
  if (options_.table) {
    if (const Status st = writer_.write(table_header(options_.style)); !st.is_ok()) {
      return st.code() == Code::kNotFound ? Status::ok() : st;
    }
  }
  std::vector<io::Record> batch;
  std::string out;
  while (!stop.load()) {
    batch.clear();
    VIGIL_RETURN_IF_ERROR(source_.poll(batch, options_.batch_records, options_.poll_wait));
    if (batch.empty()) {
      if (source_.at_end()) break;
      continue;
    }
    out.clear();
    std::size_t used = batch.size();
    bool done = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (process(batch[i], out) && options_.count && stats_.printed >= *options_.count) {
        // The rest of the batch stays unread: a group member after us starts right here.
        used = i + 1;
        done = true;
        break;
      }
    }
    if (!out.empty()) {
      if (const Status st = writer_.write(out); !st.is_ok()) return st.code() == Code::kNotFound ? Status::ok() : st;
    }
    if (options_.commit) {
      batch.resize(used);
      VIGIL_RETURN_IF_ERROR(source_.commit(io::next_offsets(batch)));
    }
    if (done) break;
  }
  return Status::ok();
}

}  // namespace vigil::tail
