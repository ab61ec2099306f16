#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/core/status.h"
#include "common/io/record.h"
#include "common/state/store.h"

namespace vigil::topology {

// Reads one partition of the changelog topic from an offset to its current end (the last
// committed record, read_committed), for restore. Online: a Kafka consumer; offline there is
// none (the local store is the only copy).
// Lifecycle: used by one thread (the restorer's).
class ChangelogReader {
 public:
  virtual ~ChangelogReader() = default;
  // Calls `fn` for every record from `from` on, until the end or until `fn` returns false;
  // returns the offset after the last record read. An offset outside the partition (before
  // its log start, or after its end) comes back as kNotFound so the caller can drop the local
  // state and read from the beginning.
  [[nodiscard]] virtual Result<std::int64_t> read(std::int32_t partition, std::int64_t from,
                                                  const std::function<bool(const io::Record&)>& fn) = 0;
};

// The outcome of one partition's restore.
struct Restored {
  std::int32_t partition = 0;
  std::size_t records = 0;
  double seconds = 0;
  Status status;
};

// Restores partitions of the state store from the changelog on a thread of its own, so that
// the stage B loop keeps processing the partitions it has while new ones catch up (Kafka
// Streams' stream thread stops for any restoring task). Each restore reads the changelog from
// the partition's local checkpoint (from the beginning when the checkpoint is not in the
// log), applies the records in write batches and records the new checkpoint.
// Lifecycle: created and driven by the stage B thread; its own thread runs from construction
// to destruction. The Store and the reader outlive it.
class Restorer {
 public:
  Restorer(state::Store& store, ChangelogReader& reader, std::vector<std::string> stores);
  ~Restorer();

  // Queues `partition` (no-op if queued, or running and not cancelled).
  void start(std::int32_t partition);
  // Forgets a queued partition, or stops a running restore without recording a checkpoint
  // (what was applied stays: replaying it later is harmless, values are whole).
  void cancel(std::int32_t partition);
  // Blocks until `partition` is restored, starting it first if needed (moved to the front of
  // the queue). Its outcome is returned here, not by take_done().
  Restored wait(std::int32_t partition);
  // Restores finished since the last call.
  std::vector<Restored> take_done();
  // Changelog records that were not a stage B's: to be dead-lettered by the caller.
  std::vector<io::Record> take_bad();
  // Partitions queued or running.
  std::size_t pending() const;

 private:
  void loop();
  Restored restore(std::int32_t partition);

  state::Store& store_;
  ChangelogReader& reader_;
  std::vector<std::string> stores_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::int32_t> queue_;
  std::int32_t running_ = -1;
  bool cancel_running_ = false;
  bool stop_ = false;
  std::map<std::int32_t, Restored> done_;
  std::vector<io::Record> bad_;
  std::thread thread_;
};

}  // namespace vigil::topology
