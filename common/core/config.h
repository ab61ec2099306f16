#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil {

// Thrown only while loading configuration at start-up; the message says which key is wrong
// and what to write instead. Never thrown on the record path.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct InputBinding {
  std::string topic;
  std::string adapter;  // facebook | tiktok | telegram | zalo | report | canonical
};

struct KafkaConfig {
  // librdkafka properties, passed through as they are. `common` goes to every client,
  // `consumer`/`producer` only to that client (group.id and transactional.id live there).
  std::map<std::string, std::string> common;
  std::map<std::string, std::string> consumer;
  std::map<std::string, std::string> producer;
};

// A known-bad domain feed file (docs/configuration.md, "Known-bad feeds").
struct BlocklistFeedConfig {
  std::string name;             // in flags' reasons and metric labels
  std::string path;             // relative paths are resolved against the config file
  std::string format = "auto";  // auto | hosts | adblock | domains
};

struct IntelConfig {
  std::vector<BlocklistFeedConfig> feeds;
  // Compacted topic of blocklist entries (key domain, value feed, tombstone = removal), read
  // from the beginning without a consumer group. Empty: no topic.
  std::string blocklist_topic = "intel.blocklist";
  // At start-up, how long to wait for the topic to be read to its end before processing.
  int startup_wait_seconds = 30;
};

// Stage B: entity state (docs/state.md).
struct StateConfig {
  bool enabled = true;
  std::string observations_topic = "vigil.observations";
  std::string changelog_topic = "vigil.changelog";  // compacted
  // Local RocksDB directory; relative paths are resolved against the config file. Online
  // it should survive restarts (a PVC): restore then resumes from its checkpoint.
  std::string dir = "vigil-state";
  // Partitions of the two topics when the detector creates them; offline, the number of
  // in-memory partitions (use the online count so both judge late records alike).
  int partitions = 6;
  // Observations per stage B batch (= per transaction). One raw record gives several
  // observations (one per entity, plus ring messages), so stage B's batches are larger than
  // stage A's for the same transaction rate. A cap, not a target: a batch takes what has
  // arrived. Under load the cap decides how far a transaction commit (40-60 ms on one broker)
  // is amortised: at 2000, stage B fell behind at 7 370 records/s (3.8 observations each);
  // at 10000 its batches grew to about 3 000 and kept up (docs/performance.md).
  std::size_t batch_max_records = 10000;
};

struct DetectorConfig {
  std::string rule_pack;  // path; relative paths are resolved against the config file
  KafkaConfig kafka;
  std::vector<InputBinding> inputs;
  std::string flags_topic_prefix = "flags.";
  std::string dlq_topic = "vigil.dlq";
  std::size_t max_record_bytes = 1 << 20;
  std::size_t max_json_depth = 64;
  std::size_t batch_max_records = 500;
  int batch_max_wait_ms = 100;
  bool expose_pii = false;  // when true, flags carry full PII values beside the masked ones
  // /metrics, /healthz, /readyz. Empty: the default (online 127.0.0.1:9464, offline off).
  std::string metrics_listen;
  int metrics_max_silence_seconds = 30;  // /healthz fails when the loop has not beaten for this long
  IntelConfig intel;
  StateConfig state;
};

// The defaults: the five raw topics of the brief plus raw.canonical, each with its adapter.
DetectorConfig default_detector_config();

// Reads a YAML file; unknown keys are errors (a typo must not silently fall back to a default).
DetectorConfig load_detector_config(const std::string& path);

// Resolves a secret reference in a property value so secrets stay out of config files and
// command lines: "${file:/run/secrets/kafka-password}" is replaced by that file's content
// (one trailing newline dropped), "${env:KAFKA_PASSWORD}" by that environment variable.
// Other values come back unchanged. Throws ConfigError naming `key` when the file or
// variable is missing.
std::string resolve_secret_ref(const std::string& key, const std::string& value);

// The adapter bound to `topic`, or nullptr.
const InputBinding* find_input(const DetectorConfig& config, const std::string& topic);

}  // namespace vigil
