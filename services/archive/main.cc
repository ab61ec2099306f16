// vigil-archive: parses flags and wires a Kafka consumer to the archiver.
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/cli/cli.h"
#include "common/io/kafka/kafka_io.h"
#include "common/log/log.h"
#include "services/archive/archive.h"
#include "services/archive/probe.h"

namespace {

int usage_error(const std::string& message) {
  return vigil::cli::usage_error("vigil-archive", message);
}

// "256M", "1G", "500k" or plain bytes.
bool parse_size(const std::string& text, std::uint64_t& out) {
  if (text.empty()) return false;
  std::uint64_t mult = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'k':
    case 'K': mult = 1ull << 10; break;
    case 'm':
    case 'M': mult = 1ull << 20; break;
    case 'g':
    case 'G': mult = 1ull << 30; break;
    default: break;
  }
  if (mult != 1) digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12) return false;
  out = std::stoull(digits) * mult;
  return out > 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vigil-archive: archives Kafka topics to rolling zstd files of kcat -J envelope lines, one file per\n"
      "partition at a time, named <topic>+<partition>+<first offset>-<last offset>.jsonl.zst. Offsets are\n"
      "committed only after a file is fsynced and renamed into place, so a crash loses and duplicates nothing.\n\n"
      "Examples:\n"
      "  vigil-archive -b 127.0.0.1:9092 --dir /data/archive -t raw.telegram -t raw.facebook\n"
      "  vigil-archive -c detector.yaml --dir /data/archive --max-bytes 64M --max-age 5m --all-inputs\n"
      "  vigil-replay -b $B /data/archive/raw.telegram/      # and back\n\n"
      "Exit codes: 0 stopped by SIGINT/SIGTERM after closing and committing every open file;\n"
      "1 broker or disk failure (open files are left partial, removed and re-read at the next start);\n"
      "2 bad arguments or config.",
      "vigil-archive"};
  vigil::cli::KafkaFlags kafka;
  vigil::cli::add_kafka_flags(app, kafka);
  vigil::archive::ArchiveOptions options;
  std::vector<std::string> topics;
  std::string group = "vigil-archive", max_bytes = "256M", max_age = "10m";
  bool all_inputs = false;
  std::string log_format;
  app.add_option("--dir,-d", options.dir, "Archive directory (one sub-directory per topic)")->required();
  app.add_option("--topic,-t", topics, "Topic to archive (repeatable)");
  app.add_flag("--all-inputs", all_inputs, "Archive every input topic of the --config (the detector's raw topics)");
  app.add_option("--group,-G", group, "Consumer group (default vigil-archive): progress is shared and resumed by it");
  app.add_option("--max-bytes", max_bytes, "Close a file at this compressed size (bytes, or 64M, 1G)");
  app.add_option("--max-age", max_age, "Close a file this long after its first record (30s, 10m, 1h)");
  app.add_option("--max-records", options.max_records, "Close a file after this many records (0 = no limit)");
  app.add_option("--zstd-level", options.zstd_level, "zstd level 1..19 (default 3)")->check(CLI::Range(1, 19));
  std::string metrics_listen = "off";
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port for /metrics, /healthz, /readyz (e.g. 0.0.0.0:9464 in a pod); default off");
  vigil::cli::add_log_flag(app, log_format);
  if (const auto done = vigil::cli::parse_command_line(app, argc, argv, log_format, "vigil-archive")) return *done;
  if (!parse_size(max_bytes, options.max_bytes))
    return usage_error("--max-bytes " + max_bytes + ": expected e.g. 67108864, 64M or 1G");
  {
    const auto age = vigil::cli::parse_time(max_age, 0);  // a duration d parses as 0 - d
    if (!age || *age >= 0) return usage_error("--max-age " + max_age + ": expected a duration like 30s, 10m or 1h");
    options.max_age = std::chrono::seconds(std::max<std::int64_t>(1, -*age / 1000));
  }

  vigil::io::KafkaSourceOptions consumer;
  vigil::DetectorConfig config;
  try {
    config = vigil::cli::load_config(kafka);
    consumer.properties = vigil::cli::kafka_properties(kafka, config, vigil::cli::Role::kConsumer);
  } catch (const vigil::ConfigError& e) {
    return usage_error(e.what());
  }
  if (all_inputs) {
    for (const auto& input : config.inputs) topics.push_back(input.topic);
  }
  if (topics.empty()) return usage_error("nothing to archive: give --topic NAME (repeatable) or --all-inputs");
  consumer.properties["group.id"] = group;
  consumer.topics = topics;

  auto registry = std::make_shared<prometheus::Registry>();
  auto health = std::make_shared<vigil::metrics::Health>();
  vigil::archive::ArchiveProbe probe(*registry, health);
  std::unique_ptr<vigil::metrics::Server> metrics_server;
  if (metrics_listen != "off") {
    auto server = vigil::metrics::Server::start({metrics_listen, std::chrono::seconds(30)}, registry, health);
    if (!server.is_ok()) return usage_error("--metrics-listen: " + server.status().message());
    metrics_server = std::move(server.value());
    spdlog::info("metrics on port {} (/metrics, /healthz, /readyz)", metrics_server->port());
  }
  vigil::archive::Archiver archiver(options, std::chrono::steady_clock::now, &probe);
  if (const auto st = archiver.recover(); !st.is_ok()) return usage_error(st.message());
  vigil::io::Source* source_ptr = nullptr;
  consumer.on_revoke = [&](const std::vector<vigil::io::TopicPartitionOffset>& parts) {
    if (source_ptr != nullptr) archiver.on_revoke(*source_ptr, parts);
  };
  auto source = vigil::io::open_kafka_source(consumer);
  if (!source.is_ok()) return usage_error(source.status().message());
  source_ptr = source.value().get();

  std::atomic<bool> stop{false};
  vigil::cli::stop_on_signals(stop);
  spdlog::info("archiving {} topic(s) as group {} into {}", topics.size(), group, options.dir);
  const auto started = std::chrono::steady_clock::now();
  const vigil::Status status = archiver.run(*source.value(), stop);
  source.value()->close();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& s = archiver.stats();
  std::cout << "archived " << vigil::cli::group_digits(s.records) << " records in " << s.files << " files ("
            << vigil::cli::group_digits(s.bytes_in) << " bytes, " << vigil::cli::group_digits(s.bytes_out)
            << " compressed) in " << secs << " s; skipped as already archived: " << s.already_archived
            << "; partial files removed at start: " << s.partials_removed << "\n"
            << std::flush;
  if (!status.is_ok()) {
    spdlog::error("stopped on error: {}", status.to_string());
    return vigil::cli::kExitFailure;
  }
  return vigil::cli::kExitOk;
}
