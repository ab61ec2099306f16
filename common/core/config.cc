#include "common/core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace vigil {
namespace {

const std::set<std::string>& known_adapters() {
  static const std::set<std::string> kNames = {"facebook", "tiktok", "telegram", "zalo", "report", "canonical"};
  return kNames;
}

[[noreturn]] void fail(const std::string& path, const std::string& key, const std::string& what) {
  throw ConfigError(path + ": " + key + ": " + what);
}

void check_keys(const YAML::Node& node, const std::string& path, const std::string& where,
                const std::set<std::string>& allowed) {
  if (!node.IsMap()) fail(path, where, "expected a mapping");
  for (const auto& kv : node) {
    const auto k = kv.first.as<std::string>();
    if (allowed.count(k) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(path, where.empty() ? k : where + "." + k, "unknown key (expected one of: " + list + ")");
    }
  }
}

std::map<std::string, std::string> string_map(const YAML::Node& node, const std::string& path,
                                              const std::string& where) {
  std::map<std::string, std::string> out;
  if (!node) return out;
  if (!node.IsMap()) fail(path, where, "expected a mapping of librdkafka property: value");
  for (const auto& kv : node) {
    if (!kv.second.IsScalar()) {
      fail(path, where + "." + kv.first.as<std::string>(), "expected a scalar value");
    }
    const auto key = kv.first.as<std::string>();
    try {
      out[key] = resolve_secret_ref(key, kv.second.as<std::string>());
    } catch (const ConfigError& e) {
      fail(path, where + "." + key, e.what());
    }
  }
  return out;
}

template <typename T>
T scalar(const YAML::Node& node, const std::string& path, const std::string& where, T fallback) {
  if (!node) return fallback;
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    fail(path, where, "wrong type for this value");
  }
}

}  // namespace

std::string resolve_secret_ref(const std::string& key, const std::string& value) {
  if (!value.starts_with("${") || !value.ends_with("}")) return value;
  const std::string_view ref = std::string_view(value).substr(2, value.size() - 3);
  if (ref.starts_with("env:")) {
    const std::string name(ref.substr(4));
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) throw ConfigError(key + ": environment variable " + name + " is not set");
    return v;
  }
  if (ref.starts_with("file:")) {
    const std::string file(ref.substr(5));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(key + ": cannot read secret file " + file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.ends_with('\n')) content.pop_back();
    if (content.ends_with('\r')) content.pop_back();
    return content;
  }
  throw ConfigError(key + ": unknown secret reference " + value + " (use ${file:/path} or ${env:NAME})");
}

DetectorConfig default_detector_config() {
  DetectorConfig c;
  c.inputs = {{"raw.facebook", "facebook"}, {"raw.tiktok", "tiktok"},  {"raw.telegram", "telegram"},
              {"raw.zalo", "zalo"},         {"raw.reports", "report"}, {"raw.canonical", "canonical"}};
  return c;
}

DetectorConfig load_detector_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot open the config file (check the path given to --config)");
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": not valid YAML: " + e.what());
  }
  DetectorConfig c = default_detector_config();
  if (root.IsNull()) return c;
  check_keys(root, path, "",
             {"rule_pack", "kafka", "kafka_consumer", "kafka_producer", "inputs", "outputs", "limits", "batch",
              "expose_pii", "metrics", "state", "intel"});

  if (root["rule_pack"]) {
    std::filesystem::path p = scalar<std::string>(root["rule_pack"], path, "rule_pack", "");
    if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
    c.rule_pack = p.lexically_normal().string();
  }
  c.kafka.common = string_map(root["kafka"], path, "kafka");
  c.kafka.consumer = string_map(root["kafka_consumer"], path, "kafka_consumer");
  c.kafka.producer = string_map(root["kafka_producer"], path, "kafka_producer");

  if (const auto inputs = root["inputs"]) {
    if (!inputs.IsSequence()) fail(path, "inputs", "expected a list of {topic, adapter}");
    c.inputs.clear();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::string where = "inputs[" + std::to_string(i) + "]";
      check_keys(inputs[i], path, where, {"topic", "adapter"});
      InputBinding b{scalar<std::string>(inputs[i]["topic"], path, where + ".topic", ""),
                     scalar<std::string>(inputs[i]["adapter"], path, where + ".adapter", "")};
      if (b.topic.empty()) fail(path, where + ".topic", "missing topic name");
      if (known_adapters().count(b.adapter) == 0) {
        fail(path, where + ".adapter",
             "unknown adapter '" + b.adapter + "' (use facebook, tiktok, telegram, zalo, report or canonical)");
      }
      c.inputs.push_back(std::move(b));
    }
    if (c.inputs.empty()) fail(path, "inputs", "at least one input topic is needed");
  }
  if (const auto out = root["outputs"]) {
    check_keys(out, path, "outputs", {"flags_topic_prefix", "dlq_topic"});
    c.flags_topic_prefix =
        scalar<std::string>(out["flags_topic_prefix"], path, "outputs.flags_topic_prefix", c.flags_topic_prefix);
    c.dlq_topic = scalar<std::string>(out["dlq_topic"], path, "outputs.dlq_topic", c.dlq_topic);
    if (c.dlq_topic.empty()) fail(path, "outputs.dlq_topic", "must not be empty");
  }
  if (const auto lim = root["limits"]) {
    check_keys(lim, path, "limits", {"max_record_bytes", "max_json_depth"});
    c.max_record_bytes =
        scalar<std::size_t>(lim["max_record_bytes"], path, "limits.max_record_bytes", c.max_record_bytes);
    c.max_json_depth = scalar<std::size_t>(lim["max_json_depth"], path, "limits.max_json_depth", c.max_json_depth);
    if (c.max_record_bytes == 0) fail(path, "limits.max_record_bytes", "must be > 0");
  }
  if (const auto b = root["batch"]) {
    check_keys(b, path, "batch", {"max_records", "max_wait_ms"});
    c.batch_max_records = scalar<std::size_t>(b["max_records"], path, "batch.max_records", c.batch_max_records);
    c.batch_max_wait_ms = scalar<int>(b["max_wait_ms"], path, "batch.max_wait_ms", c.batch_max_wait_ms);
    if (c.batch_max_records == 0) fail(path, "batch.max_records", "must be > 0");
    if (c.batch_max_wait_ms < 0) fail(path, "batch.max_wait_ms", "must be >= 0");
  }
  c.expose_pii = scalar<bool>(root["expose_pii"], path, "expose_pii", false);
  if (const auto m = root["metrics"]) {
    check_keys(m, path, "metrics", {"listen", "max_silence_seconds"});
    c.metrics_listen = scalar<std::string>(m["listen"], path, "metrics.listen", "");
    c.metrics_max_silence_seconds =
        scalar<int>(m["max_silence_seconds"], path, "metrics.max_silence_seconds", c.metrics_max_silence_seconds);
    if (c.metrics_max_silence_seconds <= 0) fail(path, "metrics.max_silence_seconds", "must be > 0");
  }
  if (const auto intel = root["intel"]) {
    check_keys(intel, path, "intel", {"feeds", "blocklist_topic", "startup_wait_seconds"});
    if (const auto feeds = intel["feeds"]) {
      if (!feeds.IsSequence()) fail(path, "intel.feeds", "expected a list of {name, path, format}");
      std::set<std::string> names;
      for (std::size_t i = 0; i < feeds.size(); ++i) {
        const std::string where = "intel.feeds[" + std::to_string(i) + "]";
        check_keys(feeds[i], path, where, {"name", "path", "format"});
        BlocklistFeedConfig f;
        f.name = scalar<std::string>(feeds[i]["name"], path, where + ".name", "");
        const bool name_ok =
            !f.name.empty() && f.name.size() <= 64 && std::all_of(f.name.begin(), f.name.end(), [](unsigned char ch) {
              return std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.';
            });
        if (!name_ok)
          fail(path, where + ".name", "1..64 letters, digits, '-', '_' or '.' (it names the feed in flags)");
        if (!names.insert(f.name).second) fail(path, where + ".name", "duplicate feed name '" + f.name + "'");
        std::filesystem::path file = scalar<std::string>(feeds[i]["path"], path, where + ".path", "");
        if (file.empty()) fail(path, where + ".path", "missing: the feed file to read");
        if (file.is_relative()) file = std::filesystem::path(path).parent_path() / file;
        f.path = file.lexically_normal().string();
        f.format = scalar<std::string>(feeds[i]["format"], path, where + ".format", f.format);
        if (f.format != "auto" && f.format != "hosts" && f.format != "adblock" && f.format != "domains")
          fail(path, where + ".format", "unknown format '" + f.format + "' (use auto, hosts, adblock or domains)");
        c.intel.feeds.push_back(std::move(f));
      }
    }
    c.intel.blocklist_topic =
        scalar<std::string>(intel["blocklist_topic"], path, "intel.blocklist_topic", c.intel.blocklist_topic);
    c.intel.startup_wait_seconds =
        scalar<int>(intel["startup_wait_seconds"], path, "intel.startup_wait_seconds", c.intel.startup_wait_seconds);
    if (c.intel.startup_wait_seconds < 0) fail(path, "intel.startup_wait_seconds", "must be >= 0");
  }
  // The state directory, like every relative path here, is relative to the config file.
  const auto resolve_state_dir = [&] {
    std::filesystem::path p = c.state.dir;
    if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
    c.state.dir = p.lexically_normal().string();
  };
  if (const auto st = root["state"]) {
    check_keys(st, path, "state",
               {"enabled", "observations_topic", "changelog_topic", "dir", "partitions", "batch_max_records"});
    c.state.enabled = scalar<bool>(st["enabled"], path, "state.enabled", c.state.enabled);
    c.state.observations_topic =
        scalar<std::string>(st["observations_topic"], path, "state.observations_topic", c.state.observations_topic);
    c.state.changelog_topic =
        scalar<std::string>(st["changelog_topic"], path, "state.changelog_topic", c.state.changelog_topic);
    if (c.state.observations_topic.empty()) fail(path, "state.observations_topic", "must not be empty");
    if (c.state.changelog_topic.empty()) fail(path, "state.changelog_topic", "must not be empty");
    if (st["dir"]) {
      c.state.dir = scalar<std::string>(st["dir"], path, "state.dir", "");
      if (c.state.dir.empty()) fail(path, "state.dir", "must not be empty");
    }
    c.state.partitions = scalar<int>(st["partitions"], path, "state.partitions", c.state.partitions);
    if (c.state.partitions < 1 || c.state.partitions > 10000) fail(path, "state.partitions", "must be 1..10000");
    c.state.batch_max_records =
        scalar<std::size_t>(st["batch_max_records"], path, "state.batch_max_records", c.state.batch_max_records);
    if (c.state.batch_max_records == 0) fail(path, "state.batch_max_records", "must be > 0");
  }
  resolve_state_dir();
  return c;
}

const InputBinding* find_input(const DetectorConfig& config, const std::string& topic) {
  for (const auto& b : config.inputs) {
    if (b.topic == topic) return &b;
  }
  return nullptr;
}

}  // namespace vigil
