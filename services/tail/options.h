#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/cli/cli.h"
#include "common/core/time.h"
#include "services/tail/filter.h"

namespace vigil::tail {

// vigil-tail's command line, checked. Kafka properties and the config are read later (they
// may name files), so only their flags are kept here.
struct Args {
  cli::KafkaFlags kafka;
  std::vector<std::string> topics;
  std::vector<std::string> files;
  std::string group;  // empty: no consumer group
  bool from_beginning = false;
  Filter filter;  // filter.since is --since
  std::optional<std::uint64_t> count;
  bool json = false;
  bool table = false;
  bool no_color = false;
};

struct ParsedArgs {
  // -1: go on with `args`; otherwise exit with this code after printing `message`
  // (to stdout for --help, to stderr for errors).
  int exit_code = -1;
  std::string message;
  Args args;
};

// `now` resolves relative --since values ("15m").
ParsedArgs parse_args(int argc, const char* const* argv, TimestampMs now);

}  // namespace vigil::tail
