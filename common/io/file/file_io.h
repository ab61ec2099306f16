#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/io/sink.h"
#include "common/io/source.h"

namespace vigil::io {

// Reads archives (envelope JSON Lines, plain, .gz or .zst: chosen by content, not by name)
// in the order given. A line that is not a valid envelope becomes a Record with
// `source_error` set, topic "file:<path>" and offset = its line number, so it is
// dead-lettered instead of stopping the run.
// Fails at open time (with the path in the message) if a file cannot be read.
Result<std::unique_ptr<Source>> open_file_source(const std::vector<std::string>& paths);

struct FileSinkOptions {
  std::string path;  // every record goes here...
  std::string dlq_topic;
  std::string dlq_path;  // ...except records for dlq_topic, when dlq_path is set
};

// Writes records as envelope lines, giving each topic its own offsets from 0 (partition 0),
// as a broker with one partition per topic would. commit() flushes and fsyncs.
Result<std::unique_ptr<Sink>> open_file_sink(const FileSinkOptions& options);

}  // namespace vigil::io
