// vigil-replay: parses flags, expands the inputs and wires the replayer to a Kafka producer.
#include <glob.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/cli/cli.h"
#include "common/io/kafka/kafka_io.h"
#include "common/log/log.h"
#include "services/replay/replay.h"

namespace {

int usage_error(const std::string& message) {
  return vigil::cli::usage_error("vigil-replay", message);
}

// Globs are expanded here too, so quoted patterns work and behave the same in scripts;
// a directory stands for the files in it, in name order (archive names sort by offset).
bool expand_inputs(const std::vector<std::string>& args, std::vector<std::string>& out, std::string& error) {
  namespace fs = std::filesystem;
  for (const auto& arg : args) {
    std::vector<std::string> matches;
    if (arg.find_first_of("*?[") != std::string::npos) {
      glob_t g = {};
      if (::glob(arg.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
      }
      globfree(&g);
      if (matches.empty()) {
        error = "no file matches " + arg;
        return false;
      }
    } else {
      matches.push_back(arg);
    }
    for (const auto& m : matches) {
      std::error_code ec;
      if (fs::is_directory(m, ec)) {
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(m, ec)) {
          if (e.is_regular_file() && !e.path().filename().string().starts_with(".")) files.push_back(e.path().string());
        }
        std::sort(files.begin(), files.end());
        out.insert(out.end(), files.begin(), files.end());
      } else if (!fs::exists(m, ec)) {
        error = m + ": no such file";
        return false;
      } else {
        out.push_back(m);
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using vigil::cli::kExitFailure;
  CLI::App app{
      "vigil-replay: replays archived records (kcat -J envelopes, or plain JSON Lines with --topic;\n"
      "plain, .gz or .zst) into Kafka topics, keeping keys, headers, timestamps and per-partition order.\n\n"
      "Examples:\n"
      "  vigil-replay -b 127.0.0.1:9092 archive/raw.telegram/                 # a vigil-archive directory\n"
      "  vigil-replay -b $B --speed 10 --from 2024-04-01T00:00:00Z 'dump-*.jsonl.zst'\n"
      "  vigil-replay -b $B --topic raw.zalo --format lines zalo-webhooks.jsonl\n"
      "  vigil-replay -b $B --topic-map raw.telegram=replay.telegram --restamp now dump.jsonl\n"
      "  vigil-replay --dry-run dump.jsonl.gz                                  # validate, count per topic\n\n"
      "Exit codes: 0 every record delivered; 1 some record not delivered, an invalid line, or a broker\n"
      "or file error; 2 bad arguments; 130 stopped by SIGINT/SIGTERM before the end (what was sent is flushed).",
      "vigil-replay"};
  vigil::cli::KafkaFlags kafka;
  vigil::cli::add_kafka_flags(app, kafka);
  std::vector<std::string> input_args;
  std::vector<std::string> topic_maps;
  std::string format = "auto", partition_by = "key", restamp, from, to;
  std::string log_format;
  vigil::replay::ReplayOptions options;
  bool dry_run = false, no_progress = false;
  int flush_timeout_s = 60;
  app.add_option("inputs", input_args, "Archive files, globs or directories, replayed in the order given")->required();
  app.add_option("--topic,-t", options.topic, "Send every record to this topic (required for plain JSON Lines)");
  app.add_option("--topic-map", topic_maps, "old=new: rename a topic of the archive (repeatable)");
  app.add_option("--format", format, "auto (envelope or plain per line), envelope, or lines")
      ->check(CLI::IsMember({"auto", "envelope", "lines"}));
  app.add_option("--partition-by", partition_by,
                 "key: the partitioner places records by key (murmur2, as Java clients); original: the archived "
                 "partition")
      ->check(CLI::IsMember({"key", "original"}));
  app.add_option("--restamp", restamp, "'now': stamp records with the time they are sent instead of the archived one");
  app.add_option("--speed", options.speed,
                 "1 = original pacing from the timestamps, 10 = ten times faster, 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", options.rate, "At most this many records per second (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--from", from, "Only records with a timestamp at or after TIME (ISO 8601, epoch ms, or 2h/7d ago)");
  app.add_option("--to", to, "Only records with a timestamp before TIME");
  app.add_flag("--dry-run", dry_run, "Validate the archives and count records per topic; send nothing");
  app.add_flag("--no-progress", no_progress, "No progress bar or progress log lines");
  app.add_option("--flush-timeout", flush_timeout_s, "Seconds to wait for the last deliveries at the end")
      ->check(CLI::PositiveNumber);
  vigil::cli::add_log_flag(app, log_format);
  if (const auto done = vigil::cli::parse_command_line(app, argc, argv, log_format, "vigil-replay")) return *done;

  options.format = format == "envelope" ? vigil::replay::LineFormat::kEnvelope
                   : format == "lines"  ? vigil::replay::LineFormat::kLines
                                        : vigil::replay::LineFormat::kAuto;
  if (options.format == vigil::replay::LineFormat::kLines && options.topic.empty()) {
    return usage_error("--format lines needs --topic NAME");
  }
  options.partition_by =
      partition_by == "original" ? vigil::replay::PartitionBy::kOriginal : vigil::replay::PartitionBy::kKey;
  if (!restamp.empty() && restamp != "now") return usage_error("--restamp takes only 'now'");
  options.restamp_now = restamp == "now";
  for (const auto& m : topic_maps) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      return usage_error("--topic-map " + m + ": expected old=new");
    options.topic_map[m.substr(0, eq)] = m.substr(eq + 1);
  }
  if (!options.topic.empty() && !options.topic_map.empty()) return usage_error("use --topic or --topic-map, not both");
  const auto now = vigil::wall_clock_ms();
  if (!from.empty()) {
    options.from = vigil::cli::parse_time(from, now);
    if (!options.from) return usage_error("--from " + from + ": expected ISO 8601, epoch ms, or a duration like 2h");
  }
  if (!to.empty()) {
    options.to = vigil::cli::parse_time(to, now);
    if (!options.to) return usage_error("--to " + to + ": expected ISO 8601, epoch ms, or a duration like 2h");
  }
  if (options.from && options.to && *options.from >= *options.to) return usage_error("--from must be before --to");
  options.flush_timeout = std::chrono::seconds(flush_timeout_s);
  std::string error;
  if (!expand_inputs(input_args, options.inputs, error)) return usage_error(error);
  if (options.inputs.empty()) return usage_error("no input files (is the directory empty?)");

  std::unique_ptr<vigil::io::Producer> producer;
  if (!dry_run) {
    std::map<std::string, std::string> props;
    try {
      props = vigil::cli::kafka_properties(kafka, vigil::cli::load_config(kafka), vigil::cli::Role::kProducer);
    } catch (const vigil::ConfigError& e) {
      return usage_error(e.what());
    }
    // Bulk loading: fuller batches are worth a little latency (measured: bench/tools_bench.sh).
    props.emplace("linger.ms", "20");
    auto p = vigil::io::open_kafka_producer(props);
    if (!p.is_ok()) return usage_error(p.status().message());
    producer = std::move(p.value());
  }

  std::atomic<bool> stop{false};
  vigil::cli::stop_on_signals(stop);
  std::uint64_t total_bytes = 0;
  for (const auto& f : options.inputs) {
    std::error_code ec;
    total_bytes += std::filesystem::file_size(f, ec);
  }
  vigil::cli::Progress progress(dry_run ? "checking" : "replaying", total_bytes, isatty(STDERR_FILENO) != 0);
  vigil::replay::ProgressFn on_progress;
  if (!no_progress) on_progress = [&progress](std::uint64_t r, std::uint64_t b) { progress.update(r, b); };
  vigil::replay::ReplayStats stats;
  const vigil::Status status =
      vigil::replay::run_replay(options, producer.get(), vigil::replay::system_clock(), stop, on_progress, stats);
  if (!no_progress) progress.finish();
  std::cout << vigil::replay::format_summary(stats, dry_run) << std::flush;
  if (!status.is_ok()) {
    std::cerr << "vigil-replay: " << status.message() << "\n";
    if (status.code() == vigil::Code::kInvalidArgument) return vigil::cli::kExitUsage;
    return kExitFailure;
  }
  if (stats.bad_lines > 0) {
    std::cerr << "vigil-replay: " << stats.bad_lines << " invalid lines were not replayed (listed above)\n";
    return kExitFailure;
  }
  if (stats.failed > 0) {
    std::cerr << "vigil-replay: " << stats.failed << " records were NOT delivered; first error: " << stats.first_failure
              << "\n";
    if (stats.first_failure.find("Unknown partition") != std::string::npos &&
        options.partition_by == vigil::replay::PartitionBy::kOriginal) {
      std::cerr << "vigil-replay: the target topic has fewer partitions than the archive: create it with as many, "
                   "or use --partition-by key\n";
    }
    return kExitFailure;
  }
  if (stats.interrupted) return vigil::cli::kExitInterrupted;
  return vigil::cli::kExitOk;
}
