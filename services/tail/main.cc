// vigil-tail: parses flags and wires a Kafka or file source to the flag filter and printer.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/cli/cli.h"
#include "common/io/file/file_io.h"
#include "common/io/kafka/kafka_io.h"
#include "services/tail/kafka_start.h"
#include "services/tail/options.h"
#include "services/tail/tail.h"

namespace {

int usage_error(const std::string& message) {
  std::cerr << "vigil-tail: " << message << "\nRun 'vigil-tail --help' for usage.\n";
  return vigil::cli::kExitUsage;
}

int failure(const std::string& message) {
  std::cerr << "vigil-tail: " << message << "\n";
  return vigil::cli::kExitFailure;
}

bool no_color_env() {
  const char* v = std::getenv("NO_COLOR");
  return v != nullptr && *v != '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  const TimestampMs started = wall_clock_ms();
  tail::ParsedArgs parsed = tail::parse_args(argc, argv, started);
  if (parsed.exit_code == cli::kExitOk) {
    std::cout << parsed.message;
    return cli::kExitOk;
  }
  if (parsed.exit_code >= 0) return usage_error(parsed.message);
  const tail::Args& args = parsed.args;

  DetectorConfig config;
  std::unique_ptr<io::Source> source;
  try {
    config = cli::load_config(args.kafka);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (!args.files.empty()) {
    auto src = io::open_file_source(args.files);
    if (!src.is_ok()) return usage_error(src.status().message());
    source = std::move(src.value());
  } else {
    std::map<std::string, std::string> properties;
    try {
      properties = cli::kafka_properties(args.kafka, config, cli::Role::kConsumer);
    } catch (const ConfigError& e) {
      return usage_error(e.what());
    }
    auto plan = tail::plan_kafka(args, config, properties, started);
    if (!plan.is_ok()) {
      const Code code = plan.status().code();
      if (code == Code::kNotFound || code == Code::kInvalidArgument) return usage_error(plan.status().message());
      return failure(plan.status().message());
    }
    auto src = io::open_kafka_source(plan.value().source);
    if (!src.is_ok()) {
      if (src.status().code() == Code::kInvalidArgument) return usage_error(src.status().message());
      return failure(src.status().message());
    }
    source = std::move(src.value());
    // Tests and scripts wait for this line: from here on every new flag is read.
    std::fprintf(stderr, "vigil-tail: %s\n", plan.value().description.c_str());
  }

  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  tail::TailOptions options;
  options.filter = args.filter;
  options.table = args.table || (terminal && !args.json);
  options.style.color = options.table && terminal && !args.no_color && !no_color_env();
  options.style.width = tail::terminal_width();
  options.count = args.count;
  options.commit = !args.group.empty();

  std::atomic<bool> stop{false};
  cli::stop_on_signals(stop);
  // A closed pipe (vigil-tail | head) shows up as EPIPE on write and ends the tail normally.
  std::signal(SIGPIPE, SIG_IGN);
  tail::FdWriter out(STDOUT_FILENO);
  tail::Tail tail(*source, out, options);
  const Status status = tail.run(stop);
  source->close();
  if (tail.stats().malformed > 0) {
    const auto n = tail.stats().malformed;
    std::fprintf(stderr, "vigil-tail: skipped %llu %s\n", static_cast<unsigned long long>(n),
                 n == 1 ? "record that is not a flag" : "records that are not flags");
  }
  if (!status.is_ok()) return failure(status.message());
  return cli::kExitOk;
}
