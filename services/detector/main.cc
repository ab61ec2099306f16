// vigil-detector: parses flags and wires a source, stage A and a sink together.
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "common/cli/cli.h"
#include "common/core/config.h"
#include "common/detect/rule_pack.h"
#include "common/detect/rule_pack_watcher.h"
#include "common/io/file/file_io.h"
#include "common/io/kafka/admin.h"
#include "common/io/kafka/kafka_io.h"
#include "common/log/log.h"
#include "common/metrics/server.h"
#include "common/state/store.h"
#include "common/topology/pipeline.h"
#include "common/topology/probe.h"
#include "common/topology/runner.h"
#include "common/topology/stage_a.h"
#include "common/topology/stage_b.h"
#include "services/detector/intel.h"
#include "services/detector/reset.h"
#include "services/detector/state_worker.h"
#include "services/detector/summary.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int) {
  g_stop.store(true);
}

void on_hangup(int) {
  g_reload.store(true);
}

constexpr int kRuntimeError = 1;

int usage_error(const std::string& message) {
  return vigil::cli::usage_error("vigil-detector", message);
}

std::string instance_name() {
  if (const char* env = std::getenv("VIGIL_INSTANCE_ID"); env != nullptr && *env != '\0') return env;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "local";
}

// --reset-to: a one-shot admin action on the detector's consumer group.
int reset_group(const vigil::DetectorConfig& config, const std::string& time_text, bool dry_run) {
  const auto time = vigil::cli::parse_time(time_text, vigil::wall_clock_ms());
  if (!time) return usage_error("--reset-to " + time_text + ": expected ISO 8601, epoch ms, or a duration like 2h");
  auto props = config.kafka.common;
  if (props.count("bootstrap.servers") == 0) return usage_error("the config has no kafka.bootstrap.servers");
  std::string group = "vigil-detector";
  if (auto it = config.kafka.consumer.find("group.id"); it != config.kafka.consumer.end()) group = it->second;
  std::vector<std::string> topics;
  for (const auto& input : config.inputs) topics.push_back(input.topic);
  auto admin = vigil::io::open_kafka_admin(props);
  if (!admin.is_ok()) return usage_error(admin.status().message());
  auto plan = vigil::detector::plan_reset(*admin.value(), group, topics, *time);
  if (!plan.is_ok()) {
    std::cerr << "vigil-detector: " << plan.status().message() << "\n";
    return kRuntimeError;
  }
  std::cout << vigil::detector::format_plan(plan.value()) << std::flush;
  if (plan.value().members > 0) {
    std::cerr << "vigil-detector: refusing: group " << group << " has " << plan.value().members
              << " active members; stop every detector of the group first (e.g. kubectl scale statefulset/vigil "
                 "--replicas=0) and run again\n";
    return vigil::cli::kExitRefused;
  }
  if (dry_run) {
    std::cout << "dry run: nothing changed\n";
    return 0;
  }
  if (const auto st = vigil::detector::apply_reset(*admin.value(), plan.value()); !st.is_ok()) {
    std::cerr << "vigil-detector: " << st.message() << "\n";
    return st.code() == vigil::Code::kUnavailable ? vigil::cli::kExitRefused : kRuntimeError;
  }
  std::cout << "offsets moved: the next detector start reprocesses from " << vigil::format_iso8601(*time) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Vigil detector: flags personal-data trading and fraud links in social-platform streams.\n\n"
      "Offline (embedded) mode reads archives and writes flags to a file:\n"
      "  vigil-detector --input samples/sample-stream.jsonl --output flags.jsonl\n"
      "Online mode consumes Kafka topics in a consumer group and publishes flags.<category>\n"
      "and vigil.dlq in one transaction per batch:\n"
      "  vigil-detector --config deploy/detector.example.yaml\n\n"
      "Reprocess from a time (detectors of the group stopped first):\n"
      "  vigil-detector --config deploy/detector.example.yaml --reset-to 2024-04-01T00:00:00Z --dry-run\n\n"
      "Exit codes: 0 success (also after SIGINT/SIGTERM), 1 runtime failure, 2 bad arguments or config,\n"
      "3 --reset-to refused because the group has active members.",
      "vigil-detector"};
  std::vector<std::string> inputs;
  std::string output, dlq_output, state_dir, config_path, rule_pack_path, metrics_listen;
  std::string log_format;
  app.add_option("--input,-i", inputs, "Archive(s) to read (kcat -J envelope JSON Lines; plain, .gz or .zst)");
  app.add_option("--output,-o", output, "Offline: file to write flags to (envelope JSON Lines)");
  app.add_option("--dlq-output", dlq_output,
                 "Offline: file for dead letters (default: <output without .jsonl>.dlq.jsonl)");
  app.add_option("--state-dir", state_dir, "Offline: directory for local state (created if missing)");
  app.add_option("--config,-c", config_path, "YAML config (required online; optional offline)");
  app.add_option("--rule-pack", rule_pack_path,
                 "Rule pack YAML (default: config rule_pack, $VIGIL_RULE_PACK, bundled vn-core)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port for /metrics, /healthz, /readyz (default: config metrics.listen; online 127.0.0.1:9464, "
                 "offline off; 'off' disables)");
  vigil::cli::add_log_flag(app, log_format);
  std::string reset_to;
  bool dry_run = false;
  app.add_option("--reset-to", reset_to,
                 "Reprocess from TIME: move the consumer group's offsets on every input partition to the first "
                 "record at or after TIME (ISO 8601, epoch ms, or 2h/7d ago), then exit. Needs --config; refused "
                 "(exit 3) while the group has active members");
  app.add_flag("--dry-run", dry_run, "With --reset-to: print the plan, change nothing");
  if (const auto done = vigil::cli::parse_command_line(app, argc, argv, log_format, "vigil-detector")) return *done;
  // SIGHUP asks for a reload, applied between batches. Installed before the slow start-up
  // (pack compile, Kafka clients, blocklist catch-up): SIGHUP's default action ends the process,
  // and an operator or a ConfigMap reloader may send one at any time.
  struct sigaction hup = {};
  hup.sa_handler = on_hangup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);

  const bool offline = !inputs.empty();
  if (offline && output.empty()) return usage_error("--input needs --output FILE to write flags to");
  if (!offline && !output.empty()) return usage_error("--output is for offline mode: add --input ARCHIVE");
  if (!offline && config_path.empty()) {
    return usage_error("give --input ARCHIVE... --output FILE (offline) or --config FILE (Kafka)");
  }
  if (!offline && (!state_dir.empty() || !dlq_output.empty())) {
    return usage_error("--state-dir and --dlq-output are offline options (online state is configured in the config)");
  }

  vigil::DetectorConfig config = vigil::default_detector_config();
  try {
    if (!config_path.empty()) config = vigil::load_detector_config(config_path);
  } catch (const vigil::ConfigError& e) {
    return usage_error(e.what());
  }
  if (!reset_to.empty() || dry_run) {
    if (reset_to.empty()) return usage_error("--dry-run goes with --reset-to TIME");
    if (offline || config_path.empty()) return usage_error("--reset-to needs --config FILE (the group and its topics)");
    return reset_group(config, reset_to, dry_run);
  }
  if (rule_pack_path.empty())
    rule_pack_path = !config.rule_pack.empty() ? config.rule_pack : vigil::cli::default_rule_pack();
  auto pack = vigil::detect::load_rule_pack(rule_pack_path);
  if (!pack.is_ok()) return usage_error("rule pack: " + pack.status().message());

  vigil::detector::RunDescription run;
  run.rule_pack = pack.value()->qualified_version();
  auto registry = std::make_shared<prometheus::Registry>();
  auto health = std::make_shared<vigil::metrics::Health>();
  vigil::topology::RunnerProbe probe(*registry, health, run.rule_pack);
  // After the probe, so destroyed before it: closing a consumer that holds partitions runs
  // its rebalance callbacks, which report to the probe. Declared before it, a return after
  // the consumer joined its group (state topics refused, metrics port taken, stage B not
  // starting) closed the consumer in ~KafkaSource on a destroyed probe: SIGSEGV.
  std::unique_ptr<vigil::io::Source> source;
  std::unique_ptr<vigil::io::Sink> sink;
  // Known-bad feeds: every configured file must load at start (config error otherwise).
  auto intel = vigil::detector::Intel::start(config, *pack.value(), probe, !offline);
  if (!intel.is_ok()) return usage_error("intel.feeds: " + intel.status().message());
  // Offline, stage B keeps its state in --state-dir, or in a scratch directory removed at
  // exit so that two runs over the same archive give the same flags.
  std::string scratch_state;
  struct RemoveScratch {
    const std::string& dir;
    ~RemoveScratch() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } remove_scratch{scratch_state};
  std::unique_ptr<vigil::state::Store> store;
  if (offline && config.state.enabled) {
    std::string dir = state_dir;
    if (dir.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-state.XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return usage_error("cannot create a scratch state directory in " + tmpl);
      dir = scratch_state = tmpl;
    }
    auto opened = vigil::state::open_rocksdb_store({dir, vigil::topology::stage_b_stores()});
    if (!opened.is_ok()) return usage_error(opened.status().message());
    store = std::move(opened.value());
  }
  if (offline) {
    if (dlq_output.empty()) {
      std::string base = output;
      if (base.size() > 6 && base.ends_with(".jsonl")) base.resize(base.size() - 6);
      dlq_output = base + ".dlq.jsonl";
    }
    if (!state_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(state_dir, ec);
      if (ec) return usage_error("--state-dir " + state_dir + ": " + ec.message());
    }
    auto src = vigil::io::open_file_source(inputs);
    if (!src.is_ok()) return usage_error(src.status().message());
    auto snk = vigil::io::open_file_sink({output, config.dlq_topic, dlq_output});
    if (!snk.is_ok()) return usage_error(snk.status().message());
    source = std::move(src.value());
    sink = std::move(snk.value());
    run.inputs = inputs;
    run.flags_destination = output;
    run.dlq_destination = dlq_output;
  } else {
    vigil::io::KafkaSourceOptions consumer;
    consumer.properties = config.kafka.common;
    consumer.properties.emplace("group.id", "vigil-detector");
    for (const auto& [k, v] : config.kafka.consumer) consumer.properties[k] = v;
    // librdkafka prefetches up to 64 MiB per consumer by default: a backlog fills it, and at
    // stage A's ~10 000 records/s 16 MiB is still more than a second of work ahead.
    consumer.properties.emplace("queued.max.messages.kbytes", "16384");
    for (const auto& input : config.inputs) consumer.topics.push_back(input.topic);
    consumer.on_lag = [&probe](const std::vector<vigil::io::PartitionLag>& lags) {
      for (const auto& l : lags) probe.on_consumer_lag(l.topic, l.partition, l.lag);
    };
    consumer.on_rebalance = [&probe](std::size_t assigned) { probe.on_rebalance(assigned); };
    consumer.on_revoke = [&probe](const std::vector<vigil::io::TopicPartitionOffset>& revoked) {
      for (const auto& tp : revoked) probe.on_revoked(tp.topic, tp.partition);
    };
    vigil::io::KafkaSinkOptions producer;
    producer.properties = config.kafka.common;
    // One transactional id per instance: a restarted instance fences its zombie predecessor.
    producer.properties.emplace("transactional.id", "vigil-detector-" + instance_name());
    for (const auto& [k, v] : config.kafka.producer) producer.properties[k] = v;
    if (consumer.properties.count("bootstrap.servers") == 0) {
      return usage_error(config_path + ": kafka.bootstrap.servers is required in online mode");
    }
    // Before the consumer joins its group: a detector that cannot start then leaves nothing
    // to close (closing a consumer in the middle of its first join can take a long time).
    if (config.state.enabled) {
      if (auto st = vigil::detector::create_state_topics(config); !st.is_ok()) {
        spdlog::error("cannot create the state topics: {}", st.to_string());
        return kRuntimeError;
      }
    }
    auto src = vigil::io::open_kafka_source(consumer);
    if (!src.is_ok()) return usage_error(src.status().message());
    auto snk = vigil::io::open_kafka_sink(producer);
    if (!snk.is_ok()) {
      spdlog::error("cannot start the producer: {}", snk.status().to_string());
      return kRuntimeError;
    }
    source = std::move(src.value());
    sink = std::move(snk.value());
    run.inputs = consumer.topics;
    run.flags_destination = config.flags_topic_prefix + "<category> topics";
    run.dlq_destination = config.dlq_topic;
    spdlog::info("consuming {} topics as group {}, rule pack {}", consumer.topics.size(),
                 consumer.properties["group.id"], run.rule_pack);
  }

  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // Operators' endpoints: a registry the probe fills, served with health and readiness.
  if (metrics_listen.empty()) metrics_listen = config.metrics_listen;
  if (metrics_listen.empty()) metrics_listen = offline ? "off" : "127.0.0.1:9464";
  std::unique_ptr<vigil::metrics::Server> metrics_server;
  if (metrics_listen != "off") {
    auto server = vigil::metrics::Server::start(
        {metrics_listen, std::chrono::seconds(config.metrics_max_silence_seconds)}, registry, health);
    if (!server.is_ok()) return usage_error(server.status().message());
    metrics_server = std::move(server.value());
    spdlog::info("metrics on port {} (/metrics, /healthz, /readyz)", metrics_server->port());
  }
  vigil::topology::StageA stage(config, pack.value());
  stage.set_blocklist(intel.value()->blocklist());
  // The blocklist topic up to its end before the first batch, so a restart misses no entry.
  intel.value()->catch_up(stage.pack());
  std::optional<vigil::topology::StageB> stage_b;
  if (store) stage_b.emplace(config, pack.value(), *store, nullptr);
  vigil::topology::Pipeline pipeline(stage, stage_b ? &*stage_b : nullptr, config.state.observations_topic,
                                     config.state.partitions);
  // Hot reload between batches: on SIGHUP, or when the pack file changes (checked every 5 s
  // online). A pack that fails to load is logged and counted; the running one stays.
  vigil::detect::RulePackWatcher watcher(rule_pack_path,
                                         offline ? std::chrono::milliseconds(0) : std::chrono::seconds(5));
  vigil::topology::RunnerOptions runner_options{config.batch_max_records,
                                                std::chrono::milliseconds(config.batch_max_wait_ms), 5, nullptr};
  std::vector<std::function<void(const std::shared_ptr<const vigil::detect::RulePack>&)>> watcher_listeners;
  runner_options.between_batches = [&]() -> vigil::Status {
    const bool reload = g_reload.exchange(false);
    if (reload) watcher.request();
    auto outcome = watcher.poll();
    if (outcome.pack != nullptr) {
      const std::string version = outcome.pack->qualified_version();
      if (stage_b) stage_b->set_rule_pack(outcome.pack);
      for (const auto& listener : watcher_listeners) listener(outcome.pack);
      stage.set_rule_pack(std::move(outcome.pack));
      probe.on_rule_pack_loaded(version);
      spdlog::info("rule pack reloaded: {} from {}", version, watcher.path());
    } else if (!outcome.error.is_ok()) {
      probe.on_rule_pack_rejected();
      spdlog::error("rule pack reload rejected, keeping {}: {}", stage.pack().qualified_version(),
                    outcome.error.message());
    }
    intel.value()->between_batches(stage.pack(), reload);
    return vigil::Status::ok();
  };
  // Online, stage B runs on its own thread with its own consumer group and transactions.
  std::unique_ptr<vigil::detector::StateWorker> state_worker;
  if (!offline && config.state.enabled) {
    auto worker = vigil::detector::StateWorker::open(config, pack.value(), instance_name(), *registry, health);
    if (!worker.is_ok()) {
      spdlog::error("cannot start stage B: {}", worker.status().to_string());
      return kRuntimeError;
    }
    state_worker = std::move(worker.value());
    watcher_listeners.push_back(
        [&](const std::shared_ptr<const vigil::detect::RulePack>& p) { state_worker->set_rule_pack(p); });
  }
  vigil::Status state_status;
  std::thread state_thread;
  if (state_worker) {
    state_thread = std::thread([&] {
      state_status = state_worker->run(g_stop);
      if (!state_status.is_ok()) g_stop.store(true);  // one stage failing stops the worker
    });
  }
  // Offline both stages run in the pipeline; online stage A publishes observations to Kafka.
  vigil::topology::Processor& processor = offline ? static_cast<vigil::topology::Processor&>(pipeline) : stage;
  vigil::topology::Runner runner(*source, *sink, processor, runner_options, &probe);
  const auto started = std::chrono::steady_clock::now();
  vigil::Status status = runner.run(g_stop);
  intel.value()->close();
  if (!status.is_ok()) g_stop.store(true);
  if (state_thread.joinable()) state_thread.join();
  if (status.is_ok()) status = state_status;
  source->close();
  sink->close();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << vigil::detector::format_summary(runner.stats(), run) << std::flush;
  if (!status.is_ok()) {
    spdlog::error("stopped on error: {}", status.to_string());
    return kRuntimeError;
  }
  return 0;
}
