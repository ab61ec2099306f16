#include "services/replay/replay.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "common/cli/cli.h"
#include "common/io/envelope.h"
#include "common/io/file/line_reader.h"

namespace vigil::replay {
namespace {

constexpr std::size_t kMaxBadLinesKept = 20;

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_until(std::chrono::steady_clock::time_point t) override { std::this_thread::sleep_until(t); }
  TimestampMs wall_ms() override { return wall_clock_ms(); }
};

std::uint64_t file_size(const std::string& path) {
  struct stat st = {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// Sleeps in short steps so a stop request is honoured within ~100 ms even at slow pacing.
void wait_until(Clock& clock, std::chrono::steady_clock::time_point target, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const auto now = clock.now();
    if (now >= target) return;
    clock.sleep_until(std::min(target, now + std::chrono::milliseconds(100)));
  }
}

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

Status run_replay(const ReplayOptions& options, io::Producer* producer, Clock& clock, const std::atomic<bool>& stop,
                  const ProgressFn& progress, ReplayStats& stats) {
  if (options.format == LineFormat::kLines && options.topic.empty()) {
    return invalid_argument("--format lines needs --topic to say where the records go");
  }
  io::EnvelopeDecoder decoder;
  io::Record record;
  std::string line;
  std::uint64_t bytes_before = 0;  // sizes of the files already read
  const auto start = clock.now();
  std::optional<TimestampMs> pace_origin;
  for (const auto& path : options.inputs) {
    auto reader = io::open_line_reader(path);
    if (!reader.is_ok()) return reader.status();
    std::uint64_t line_number = 0;
    while (!stop.load() && reader.value()->next(line)) {
      ++line_number;
      ++stats.lines;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Status decoded = Status::ok();
      if (options.format == LineFormat::kLines) {
        decoded = invalid_argument("plain lines");
      } else {
        decoded = decoder.decode(line, record);
      }
      if (!decoded.is_ok()) {
        if (options.format == LineFormat::kEnvelope || options.topic.empty()) {
          ++stats.bad_lines;
          if (stats.first_bad.size() < kMaxBadLinesKept) {
            stats.first_bad.push_back(
                {path + ":" + std::to_string(line_number),
                 options.format == LineFormat::kAuto
                     ? "not a kcat -J envelope (" + decoded.message() + "); plain JSON Lines need --topic"
                     : decoded.message()});
          }
          continue;
        }
        record = io::Record{};
        record.topic = options.topic;
        record.timestamp = 0;  // the producer stamps it
        record.value = line;
      } else {
        if (!options.topic.empty()) {
          record.topic = options.topic;
        } else if (auto it = options.topic_map.find(record.topic); it != options.topic_map.end()) {
          record.topic = it->second;
        }
      }
      if (record.timestamp > 0) {
        if ((options.from && record.timestamp < *options.from) || (options.to && record.timestamp >= *options.to)) {
          ++stats.out_of_range;
          continue;
        }
      } else if (options.from || options.to) {
        ++stats.out_of_range;  // no time to judge by: a range was asked for, so leave it out
        continue;
      }
      // Plain lines have no partition (-1) and land where the partitioner puts them.
      if (options.partition_by == PartitionBy::kKey) record.partition = -1;
      if (options.speed > 0 && record.timestamp > 0) {
        if (!pace_origin) pace_origin = record.timestamp;
        const double offset_ms = static_cast<double>(record.timestamp - *pace_origin) / options.speed;
        if (offset_ms > 0) {
          wait_until(clock, start + std::chrono::microseconds(static_cast<std::int64_t>(offset_ms * 1000)), stop);
        }
      }
      if (options.rate > 0) {
        const double offset_s = static_cast<double>(stats.sent) / options.rate;
        wait_until(clock, start + std::chrono::microseconds(static_cast<std::int64_t>(offset_s * 1e6)), stop);
      }
      if (stop.load()) break;
      if (options.restamp_now) record.timestamp = clock.wall_ms();
      if (record.timestamp > 0) {
        if (!stats.first_ts || record.timestamp < *stats.first_ts) stats.first_ts = record.timestamp;
        if (!stats.last_ts || record.timestamp > *stats.last_ts) stats.last_ts = record.timestamp;
      }
      if (producer != nullptr) {
        if (Status st = producer->send(record); !st.is_ok()) {
          stats.seconds = std::chrono::duration<double>(clock.now() - start).count();
          return st;
        }
        if ((stats.sent & 1023) == 0) producer->poll();
      }
      ++stats.sent;
      ++stats.per_topic[record.topic];
      stats.value_bytes += record.value ? record.value->size() : 0;
      if (progress && (stats.sent & 255) == 0) progress(stats.sent, bytes_before + reader.value()->bytes_read());
    }
    if (Status st = reader.value()->status(); !st.is_ok()) return st;
    bytes_before += file_size(path);
    if (stop.load()) break;
  }
  stats.interrupted = stop.load();
  Status flushed = Status::ok();
  if (producer != nullptr) {
    flushed = producer->flush(options.flush_timeout);
    const auto& counts = producer->counts();
    stats.delivered = counts.delivered;
    stats.failed = counts.failed + (counts.queued - counts.delivered - counts.failed);
    stats.first_failure = counts.first_error;
  }
  if (progress) progress(stats.sent, bytes_before);
  stats.seconds = std::chrono::duration<double>(clock.now() - start).count();
  if (!flushed.is_ok() && stats.first_failure.empty()) stats.first_failure = flushed.message();
  return Status::ok();
}

std::string format_summary(const ReplayStats& stats, bool dry_run) {
  std::string out;
  char buf[256];
  const double mb = static_cast<double>(stats.value_bytes) / 1e6;
  const double secs = std::max(stats.seconds, 1e-9);
  if (dry_run) {
    out += "dry run: " + cli::group_digits(stats.sent) + " records would be replayed (" +
           cli::group_digits(stats.lines) + " lines read)\n";
  } else {
    std::snprintf(buf, sizeof buf, " in %.2f s (%s rec/s, %.1f MB/s of values)\n", stats.seconds,
                  cli::group_digits(static_cast<std::uint64_t>(static_cast<double>(stats.sent) / secs)).c_str(),
                  mb / secs);
    out += "replayed " + cli::group_digits(stats.delivered) + " of " + cli::group_digits(stats.sent) + " records sent" +
           buf;
  }
  std::size_t width = 5;
  for (const auto& [topic, n] : stats.per_topic) width = std::max(width, topic.size());
  for (const auto& [topic, n] : stats.per_topic) {
    std::snprintf(buf, sizeof buf, "  %-*s %12s\n", static_cast<int>(width), topic.c_str(),
                  cli::group_digits(n).c_str());
    out += buf;
  }
  if (stats.first_ts && stats.last_ts) {
    out += "  record time " + format_iso8601(*stats.first_ts) + " .. " + format_iso8601(*stats.last_ts) + "\n";
  }
  if (stats.out_of_range > 0) out += "  left out by --from/--to: " + cli::group_digits(stats.out_of_range) + "\n";
  if (stats.bad_lines > 0) {
    out += "  invalid lines: " + cli::group_digits(stats.bad_lines) + "\n";
    for (const auto& b : stats.first_bad) out += "    " + b.where + ": " + b.reason + "\n";
    if (stats.bad_lines > stats.first_bad.size()) out += "    ...\n";
  }
  if (stats.failed > 0) {
    out += "  NOT delivered: " + cli::group_digits(stats.failed) + " (first: " + stats.first_failure + ")\n";
  }
  if (stats.interrupted) out += "  interrupted: the rest of the input was not replayed\n";
  return out;
}

}  // namespace vigil::replay
