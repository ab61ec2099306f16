#include "services/detector/state_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/io/kafka/admin.h"
#include "common/io/kafka/kafka_io.h"
#include "common/state/store.h"
#include "common/topology/restorer.h"
#include "common/topology/runner.h"
#include "common/topology/stage_b.h"
#include "common/topology/state_probe.h"

namespace vigil::detector {
namespace {

class KafkaChangelog final : public topology::ChangelogReader {
 public:
  KafkaChangelog(std::unique_ptr<io::PartitionReader> reader, std::string topic)
      : reader_(std::move(reader)), topic_(std::move(topic)) {}
  Result<std::int64_t> read(std::int32_t partition, std::int64_t from,
                            const std::function<bool(const io::Record&)>& fn) override {
    return reader_->read(topic_, partition, from, fn);
  }

 private:
  std::unique_ptr<io::PartitionReader> reader_;
  std::string topic_;
};

std::map<std::string, std::string> merged(const std::map<std::string, std::string>& common,
                                          const std::map<std::string, std::string>& specific) {
  auto out = common;
  for (const auto& [k, v] : specific) out[k] = v;
  return out;
}

}  // namespace

struct StateWorker::Impl {
  DetectorConfig config;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<KafkaChangelog> changelog;
  std::unique_ptr<topology::Restorer> restorer;
  std::unique_ptr<topology::StateProbe> probe;
  std::unique_ptr<topology::StageB> stage;
  std::unique_ptr<io::Source> source;
  std::unique_ptr<io::Sink> sink;
  std::unique_ptr<topology::Runner> runner;
  std::mutex pack_mutex;
  std::shared_ptr<const detect::RulePack> next_pack;
};

StateWorker::StateWorker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateWorker::~StateWorker() {
  if (impl_->source) impl_->source->close();
  if (impl_->sink) impl_->sink->close();
}

Result<std::unique_ptr<StateWorker>> StateWorker::open(const DetectorConfig& config,
                                                       std::shared_ptr<const detect::RulePack> pack,
                                                       const std::string& instance, prometheus::Registry& registry,
                                                       std::shared_ptr<metrics::Health> health) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  auto store = state::open_rocksdb_store({config.state.dir, topology::stage_b_stores()});
  if (!store.is_ok()) return store.status();
  impl->store = std::move(store.value());

  auto reader = io::open_partition_reader(merged(config.kafka.common, config.kafka.consumer));
  if (!reader.is_ok()) return reader.status();
  impl->changelog = std::make_unique<KafkaChangelog>(std::move(reader.value()), config.state.changelog_topic);
  impl->restorer = std::make_unique<topology::Restorer>(*impl->store, *impl->changelog, topology::stage_b_stores());
  impl->probe =
      std::make_unique<topology::StateProbe>(registry, std::move(health), pack->qualified_version(), *impl->store);
  impl->stage = std::make_unique<topology::StageB>(config, pack, *impl->store, impl->restorer.get(), wall_clock_ms,
                                                   impl->probe.get());

  io::KafkaSourceOptions consumer;
  consumer.properties = merged(config.kafka.common, config.kafka.consumer);
  // Its own group: the observations topic is partitioned by entity, unlike the raw topics.
  const auto suffixed = [](std::string_view base) {
    std::string out(base);
    out.append("-state");
    return out;
  };
  const auto group_it = consumer.properties.find("group.id");
  const std::string group =
      suffixed(group_it != consumer.properties.end() ? std::string_view(group_it->second) : "vigil-detector");
  consumer.properties["group.id"] = group;
  if (auto it = consumer.properties.find("group.instance.id"); it != consumer.properties.end())
    it->second = suffixed(it->second);
  // The observations topic is written in transactions by stage A (and by stage B itself: ring
  // messages), and a read_committed fetch parked on it waits out fetch.wait.max.ms (500 ms by
  // default) before it sees a commit: every hop of an observation cost up to half a second
  // (docs/performance.md, "End-to-end on real Kafka"). A short wait unless configured.
  consumer.properties.emplace("fetch.wait.max.ms", "20");
  // As for stage A (main.cc): 16 MiB of prefetch instead of librdkafka's 64 MiB.
  consumer.properties.emplace("queued.max.messages.kbytes", "16384");
  consumer.topics = {config.state.observations_topic};
  auto* stage = impl->stage.get();
  auto* probe = impl->probe.get();
  consumer.on_revoke = [stage, probe](const std::vector<io::TopicPartitionOffset>& revoked) {
    std::vector<std::int32_t> partitions;
    for (const auto& tp : revoked) {
      partitions.push_back(tp.partition);
      probe->runner().on_revoked(tp.topic, tp.partition);
    }
    stage->revoked(partitions);
  };
  // New partitions wait, paused, while their state restores in the background; the others
  // keep flowing. Resumed between batches once restored.
  consumer.pause_on_assign = true;
  consumer.on_assign = [stage](const std::vector<io::TopicPartitionOffset>& given) {
    std::vector<std::int32_t> partitions;
    for (const auto& tp : given) partitions.push_back(tp.partition);
    stage->assigned(partitions);
  };
  consumer.on_rebalance = [probe](std::size_t assigned) { probe->runner().on_rebalance(assigned); };
  auto source = io::open_kafka_source(consumer);
  if (!source.is_ok()) return source.status();
  impl->source = std::move(source.value());

  io::KafkaSinkOptions producer;
  producer.properties = merged(config.kafka.common, config.kafka.producer);
  // Its own transactional id, never stage A's (they would fence each other). Derived from a
  // configured one like group.instance.id above, so that detectors given distinct ids in
  // their configs stay distinct in stage B too (several on one host share the host name).
  auto& transactional_id = producer.properties["transactional.id"];
  transactional_id = transactional_id.empty() ? "vigil-detector-state-" + instance : suffixed(transactional_id);
  auto sink = io::open_kafka_sink(producer);
  if (!sink.is_ok()) return sink.status();
  impl->sink = std::move(sink.value());

  topology::RunnerOptions options{config.state.batch_max_records, std::chrono::milliseconds(config.batch_max_wait_ms),
                                  5, nullptr};
  auto* raw = impl.get();
  options.between_batches = [raw] {
    std::shared_ptr<const detect::RulePack> next;
    {
      std::lock_guard lock(raw->pack_mutex);
      next = std::move(raw->next_pack);
    }
    if (next) raw->stage->set_rule_pack(std::move(next));
    std::vector<std::int32_t> finished;
    VIGIL_RETURN_IF_ERROR(raw->stage->take_restored(finished));
    std::vector<io::TopicPartitionOffset> resume;
    for (const auto p : finished) resume.push_back({raw->config.state.observations_topic, p, 0});
    return raw->source->resume(resume);
  };
  impl->runner = std::make_unique<topology::Runner>(*impl->source, *impl->sink, *impl->stage, options, probe);
  spdlog::info("stage B: consuming {} as group {}, state in {}", config.state.observations_topic, group,
               config.state.dir);
  return std::unique_ptr<StateWorker>(new StateWorker(std::move(impl)));
}

Status StateWorker::run(const std::atomic<bool>& stop) {
  return impl_->runner->run(stop);
}

void StateWorker::set_rule_pack(std::shared_ptr<const detect::RulePack> pack) {
  std::lock_guard lock(impl_->pack_mutex);
  impl_->next_pack = std::move(pack);
}

const topology::Stats& StateWorker::stats() const {
  return impl_->runner->stats();
}

Status create_state_topics(const DetectorConfig& config) {
  // Quiet: the admin client would warn about consumer-only properties in `kafka:`.
  auto props = config.kafka.common;
  props.erase("log_level");
  props.emplace("log_level", "3");
  auto admin = io::open_kafka_admin(props);
  if (!admin.is_ok()) return admin.status();
  VIGIL_RETURN_IF_ERROR(admin.value()->create_topics({
      {config.state.observations_topic, config.state.partitions, -1, {}},
      {config.state.changelog_topic,
       config.state.partitions,
       -1,
       {{"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "60000"}}},
  }));
  // Topics made earlier (by hand, or with another setting) must have the partitions the
  // config says: the changelog partition of a state partition has its number, and the ring
  // coordinator waits for a watermark from each of state.partitions partitions.
  // A topic just created can be missing from the broker's metadata for a moment: ask again
  // for up to 15 s before calling it missing.
  auto parts = admin.value()->partitions({config.state.observations_topic, config.state.changelog_topic});
  for (int attempt = 0; attempt < 75 && !parts.is_ok() && parts.status().code() == Code::kNotFound; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    parts = admin.value()->partitions({config.state.observations_topic, config.state.changelog_topic});
  }
  if (!parts.is_ok()) return parts.status();
  for (const auto& topic : {config.state.observations_topic, config.state.changelog_topic}) {
    const auto n = std::count_if(parts.value().begin(), parts.value().end(),
                                 [&](const io::TopicPartitionOffset& p) { return p.topic == topic; });
    if (n != config.state.partitions)
      return invalid_argument("state.partitions is " + std::to_string(config.state.partitions) + " but topic " + topic +
                              " has " + std::to_string(n) + " partitions: set state.partitions to " +
                              std::to_string(n) + " (both state topics need the same count)");
  }
  return Status::ok();
}

}  // namespace vigil::detector
