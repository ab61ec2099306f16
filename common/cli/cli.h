#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/config.h"
#include "common/core/time.h"

namespace CLI {
class App;
}

namespace vigil::cli {

// Exit codes shared by every Vigil tool (documented in docs/operations.md).
inline constexpr int kExitOk = 0;             // done; also after SIGINT/SIGTERM for tools that never end
inline constexpr int kExitFailure = 1;        // runtime failure: broker, disk, records not delivered
inline constexpr int kExitUsage = 2;          // bad arguments or config: the message says what to fix
inline constexpr int kExitRefused = 3;        // refused to act (e.g. the consumer group still has members)
inline constexpr int kExitInterrupted = 130;  // a finite job (replay) stopped early by SIGINT/SIGTERM

// The Kafka connection flags every tool takes, like kcat's: a config file (the detector's
// YAML; its kafka sections are used), -b brokers and -X librdkafka properties, applied in
// that order so the command line wins. Values may be secret references (${file:..}, ${env:..}).
struct KafkaFlags {
  std::string config_path;
  std::string brokers;
  std::vector<std::string> properties;  // "key=value"
};

void add_kafka_flags(CLI::App& app, KafkaFlags& flags);

// Prints "<tool>: <message>" and a pointer to --help on stderr; returns kExitUsage.
int usage_error(std::string_view tool, std::string_view message);

// Adds --log-format (text or json; default $VIGIL_LOG_FORMAT, else text) bound to `log_format`.
void add_log_flag(CLI::App& app, std::string& log_format);

// Parses the command line and sets up logging (`log_format` as bound by add_log_flag).
// Returns the exit code when the tool should stop now: 0 after printing --help, kExitUsage
// after saying which argument is wrong; nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& log_format,
                                      std::string_view tool);

enum class Role { kConsumer, kProducer, kAdmin };

// The detector config named by --config, or the defaults. Throws ConfigError.
DetectorConfig load_config(const KafkaFlags& flags);

// librdkafka properties for a client in `role`: config kafka + kafka_consumer/kafka_producer,
// then -b, then -X. Throws ConfigError (naming the flag) for a malformed -X or when no
// bootstrap servers are given at all.
std::map<std::string, std::string> kafka_properties(const KafkaFlags& flags, const DetectorConfig& config, Role role);

// A time on the command line: ISO 8601 ("2024-04-01T00:00:00Z"), epoch milliseconds
// ("1711929600000"), "now", or a duration back from `now` ("15m", "2h", "7d", "now-90s").
std::optional<TimestampMs> parse_time(std::string_view text, TimestampMs now);

// Sets `flag` on SIGINT or SIGTERM (a second signal while stopping exits at once).
void stop_on_signals(std::atomic<bool>& flag);

// Progress of a long job on stderr: on a terminal a redrawn bar with rate and ETA, otherwise
// a log line every `log_every`. Lifecycle: one per job, updated from one thread.
class Progress {
 public:
  Progress(std::string what, std::uint64_t total_bytes, bool terminal,
           std::chrono::seconds log_every = std::chrono::seconds(10));
  // `records` done so far, `bytes` of the total consumed so far.
  void update(std::uint64_t records, std::uint64_t bytes);
  void finish();

  // "[#####-----]  50%  1,234 rec  5,678 rec/s  ETA 0:12", for tests.
  static std::string render(std::uint64_t records, std::uint64_t bytes, std::uint64_t total_bytes, double seconds);

 private:
  std::string what_;
  std::uint64_t total_bytes_;
  bool terminal_;
  std::chrono::seconds log_every_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
};

// The rule pack a tool uses when none is named: $VIGIL_RULE_PACK, else the bundled vn-core
// installed next to the binary (<prefix>/share/vigil/rules), else the source tree's rules/.
std::string default_rule_pack();

// Thousands separators: 1234567 -> "1,234,567".
std::string group_digits(std::uint64_t n);

}  // namespace vigil::cli
