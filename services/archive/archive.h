#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "common/io/file/zstd_writer.h"
#include "common/io/record.h"
#include "common/io/source.h"

namespace vigil::archive {

struct ArchiveOptions {
  std::string dir;
  std::uint64_t max_bytes = 256ull << 20;  // compressed bytes per file
  std::chrono::seconds max_age{600};       // a file is closed this long after its first record
  std::uint64_t max_records = 0;           // per file; 0: no limit
  int zstd_level = 3;
  std::size_t batch = 2000;  // records per poll
};

struct ArchiveStats {
  std::uint64_t records = 0;           // written to files
  std::uint64_t already_archived = 0;  // re-delivered after a crash and skipped
  std::uint64_t files = 0;             // closed
  std::uint64_t bytes_in = 0;          // envelope bytes before compression
  std::uint64_t bytes_out = 0;         // compressed bytes in closed files
  std::uint64_t partials_removed = 0;  // left by a crash, found at start
};

// One closed archive file: "<topic>+<partition>+<first offset>-<last offset>.jsonl.zst",
// offsets zero-padded to 20 digits so names sort in offset order. Kafka topic names cannot
// contain '+', so the name parses back unambiguously.
struct ArchiveFile {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
};
std::string archive_file_name(const ArchiveFile& f);
std::optional<ArchiveFile> parse_archive_file_name(const std::string& name);

// Told what the archiver does; the metrics probe implements it, so the archiver never
// touches a registry. Called on the archiving thread.
class ArchiveObserver {
 public:
  virtual ~ArchiveObserver() = default;
  // Every poll round: the loop is alive; `source_ready` as Source::ready().
  virtual void on_round(bool source_ready) = 0;
  // A file was closed (durable on disk); `committed` says whether its offset commit succeeded.
  virtual void on_file_closed(const ArchiveFile& file, std::uint64_t records, std::uint64_t bytes, bool committed) = 0;
  // Records re-delivered after a crash or seek and skipped because they are already archived.
  virtual void on_skipped(std::uint64_t records) = 0;
};

// Topics -> rolling zstd archive files of envelope lines, one open file per partition, in
// <dir>/<topic>/. A file is written as ".<name>.partial", closed (zstd frame ended, fsync,
// renamed, directory fsynced) when it reaches max_bytes, max_records or max_age, and only
// then is its partition's offset committed (last + 1). So:
//  - a crash before the rename loses nothing: the partial file is removed at the next start
//    and its records are read again from the committed offset;
//  - a crash between the rename and the commit duplicates nothing: at start the closed
//    files are scanned and records at or below the last archived offset are skipped.
// Lifecycle: recover() once, then run() on one thread until `stop`; on_revoke() is called
// by the source on that same thread (inside poll) before partitions move to another worker.
class Archiver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit Archiver(ArchiveOptions options, Clock clock = std::chrono::steady_clock::now,
                    ArchiveObserver* observer = nullptr);

  // Removes partial files and learns, from the closed ones, where each partition resumes.
  Status recover();
  // The first offset not yet archived per topic-partition (from files and this run).
  const std::map<std::pair<std::string, std::int32_t>, std::int64_t>& archived_up_to() const { return next_; }

  // Polls `source` and archives until `stop`, then closes every open file (and commits).
  Status run(io::Source& source, const std::atomic<bool>& stop);
  // Processes one batch (what run() does each round); exposed for tests.
  Status process(io::Source& source, std::vector<io::Record>& batch);
  // Closes the files of these partitions and commits them: they are about to move.
  void on_revoke(io::Source& source, const std::vector<io::TopicPartitionOffset>& partitions);
  // Closes every open file and commits.
  Status close_all(io::Source& source);

  const ArchiveStats& stats() const { return stats_; }

 private:
  struct OpenFile {
    std::unique_ptr<io::ZstdFileWriter> writer;
    ArchiveFile name;
    std::uint64_t records = 0;
    std::chrono::steady_clock::time_point opened;
  };
  using Key = std::pair<std::string, std::int32_t>;

  Status close_file(io::Source& source, const Key& key);
  Status close_due(io::Source& source);

  ArchiveOptions options_;
  Clock clock_;
  ArchiveObserver* observer_;
  std::map<Key, OpenFile> open_;
  std::map<Key, std::int64_t> next_;
  ArchiveStats stats_;
  std::string line_;
};

}  // namespace vigil::archive
