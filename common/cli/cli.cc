#include "common/cli/cli.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/log/log.h"

namespace vigil::cli {
namespace {

std::atomic<bool>* g_stop_flag = nullptr;

void on_stop_signal(int) {
  if (g_stop_flag == nullptr) return;
  // A second Ctrl-C means "now": the first one is still being honoured cleanly.
  if (g_stop_flag->exchange(true)) _exit(kExitInterrupted);
}

std::optional<std::int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  const auto n = parse_digits(s.substr(0, s.size() - 1));
  if (!n) return std::nullopt;
  std::int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    default: return std::nullopt;
  }
  // Longer than a million years is a typo, not a time; it would also overflow.
  if (*n > 365'000'000LL * 86'400'000 / unit) return std::nullopt;
  return *n * unit;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

void add_kafka_flags(CLI::App& app, KafkaFlags& flags) {
  app.add_option("--config,-c", flags.config_path,
                 "Detector YAML config; its kafka, kafka_consumer and kafka_producer sections are used");
  app.add_option("--brokers,-b", flags.brokers, "Bootstrap broker(s) host:port[,host:port] (kafka bootstrap.servers)");
  app.add_option("-X", flags.properties,
                 "librdkafka property key=value, repeatable (e.g. -X security.protocol=SASL_SSL "
                 "-X sasl.password='${file:/run/secrets/kafka}')");
}

int usage_error(std::string_view tool, std::string_view message) {
  std::fprintf(stderr, "%.*s: %.*s\nRun '%.*s --help' for usage.\n", static_cast<int>(tool.size()), tool.data(),
               static_cast<int>(message.size()), message.data(), static_cast<int>(tool.size()), tool.data());
  return kExitUsage;
}

void add_log_flag(CLI::App& app, std::string& log_format) {
  const char* env = std::getenv("VIGIL_LOG_FORMAT");
  log_format = env != nullptr && *env != '\0' ? env : "text";
  app.add_option("--log-format", log_format, "Log lines as 'text' or 'json' (default: $VIGIL_LOG_FORMAT, else text)");
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& log_format,
                                      std::string_view tool) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    return usage_error(tool, e.what());
  }
  log::Format format = log::Format::kText;
  if (!log::parse_format(log_format, format)) return usage_error(tool, "--log-format must be text or json");
  log::init(format, tool);
  return std::nullopt;
}

DetectorConfig load_config(const KafkaFlags& flags) {
  if (flags.config_path.empty()) return default_detector_config();
  return load_detector_config(flags.config_path);
}

std::map<std::string, std::string> kafka_properties(const KafkaFlags& flags, const DetectorConfig& config, Role role) {
  std::map<std::string, std::string> props = config.kafka.common;
  if (role == Role::kConsumer) {
    for (const auto& [k, v] : config.kafka.consumer) props[k] = v;
  } else if (role == Role::kProducer) {
    for (const auto& [k, v] : config.kafka.producer) {
      // A tool's producer is never the detector's transactional one.
      if (k != "transactional.id") props[k] = v;
    }
  }
  if (!flags.brokers.empty()) props["bootstrap.servers"] = flags.brokers;
  for (const auto& kv : flags.properties) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("-X " + kv + ": expected key=value (a librdkafka property)");
    }
    const std::string key = kv.substr(0, eq);
    props[key] = resolve_secret_ref("-X " + key, kv.substr(eq + 1));
  }
  if (props.count("bootstrap.servers") == 0 && props.count("metadata.broker.list") == 0) {
    throw ConfigError(
        "no Kafka brokers: give -b host:port, -X bootstrap.servers=..., or a --config with "
        "kafka.bootstrap.servers");
  }
  return props;
}

std::optional<TimestampMs> parse_time(std::string_view text, TimestampMs now) {
  if (text == "now") return now;
  if (text.starts_with("now-")) {
    const auto d = parse_duration_ms(text.substr(4));
    if (!d) return std::nullopt;
    return now - *d;
  }
  if (const auto d = parse_duration_ms(text)) return now - *d;
  if (const auto ms = parse_digits(text)) return *ms;
  return parse_iso8601(text);
}

void stop_on_signals(std::atomic<bool>& flag) {
  g_stop_flag = &flag;
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string default_rule_pack() {
  if (const char* env = std::getenv("VIGIL_RULE_PACK"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share/vigil/rules/vn-core.yaml";
    if (std::filesystem::exists(installed)) return installed.string();
  }
  return std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml";
}

std::string group_digits(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

Progress::Progress(std::string what, std::uint64_t total_bytes, bool terminal, std::chrono::seconds log_every)
    : what_(std::move(what)),
      total_bytes_(total_bytes),
      terminal_(terminal),
      log_every_(log_every),
      started_(std::chrono::steady_clock::now()),
      last_(started_) {}

std::string Progress::render(std::uint64_t records, std::uint64_t bytes, std::uint64_t total_bytes, double seconds) {
  const double fraction =
      total_bytes == 0 ? 0.0 : std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_bytes));
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string out = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(kWidth - filled), '-') + "] ";
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(fraction * 100));
  out += pct;
  out += "  " + group_digits(records) + " rec";
  const double rate = seconds > 0 ? static_cast<double>(records) / seconds : 0.0;
  out += "  " + group_digits(static_cast<std::uint64_t>(rate)) + " rec/s";
  if (fraction > 0.0 && fraction < 1.0 && seconds > 0) {
    out += "  ETA " + clock_text(seconds * (1.0 - fraction) / fraction);
  }
  return out;
}

void Progress::update(std::uint64_t records, std::uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - started_).count();
  if (terminal_) {
    if (now - last_ < std::chrono::milliseconds(200) && drawn_) return;
    std::fprintf(stderr, "\r%s %s\033[K", what_.c_str(), render(records, bytes, total_bytes_, seconds).c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else {
    if (now - last_ < log_every_) return;
    spdlog::info("{} {}", what_, render(records, bytes, total_bytes_, seconds));
  }
  last_ = now;
}

void Progress::finish() {
  if (terminal_ && drawn_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
}

}  // namespace vigil::cli
