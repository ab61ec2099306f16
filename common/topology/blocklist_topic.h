#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "common/detect/blocklist.h"
#include "common/io/record.h"
#include "common/io/source.h"

namespace vigil::topology {

// Applies the records of the blocklist topic to a Blocklist. The topic is compacted and read
// from the beginning by a consumer of its own, without a consumer group, so every start sees
// every live entry again: that is how topic entries survive restarts, with no state of ours.
// Lifecycle: used on the processing thread between batches, like the Blocklist it changes.
class BlocklistTopic {
 public:
  static constexpr std::size_t kMaxNotes = 5;

  explicit BlocklistTopic(detect::Blocklist& blocklist) : blocklist_(blocklist) {}

  struct Counts {
    std::size_t records = 0;
    std::size_t changed = 0;    // entries added, changed or removed
    std::size_t malformed = 0;  // records that are not blocklist entries (skipped)
    // What to log: malformed records ("topic/partition@offset: why") and entries for official
    // brand domains, which are kept but never flag. At most kMaxNotes.
    std::vector<std::string> notes;
  };

  // Applies the records `source` has (waiting at most `wait` for the first, reading at most
  // `max`). `pack` names the official brand domains for the warnings; may be null.
  Result<Counts> poll(io::Source& source, std::chrono::milliseconds wait, std::size_t max,
                      const detect::RulePack* pack);

  // Whether every partition in `ends` (the offsets the next records will get, i.e. the high
  // watermarks read at start-up, for partitions that hold records) has been read up to
  // `slack` records short of there. A transaction's commit marker takes the last offset and is
  // never delivered, so a caller that stops seeing records may accept a slack of 1 (only for
  // partitions it has read records from).
  bool reached(const std::vector<io::TopicPartitionOffset>& ends, std::int64_t slack = 0) const;

 private:
  detect::Blocklist& blocklist_;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next_;  // next offset per partition
  std::vector<io::Record> records_;
};

}  // namespace vigil::topology
