#include "services/detector/intel.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/io/kafka/admin.h"
#include "common/io/kafka/kafka_io.h"

namespace vigil::detector {
namespace {

using namespace std::chrono_literals;

// How often a blocklist topic that does not exist (or cannot be read) is tried again.
constexpr auto kReopenEvery = 30s;
// Records applied per poll between batches: enough for a burst, small enough that a batch of
// posts never waits long behind a bulk import.
constexpr std::size_t kTopicRecordsPerPoll = 5000;

std::string line_list(const std::vector<std::size_t>& lines, std::size_t total) {
  std::string out;
  for (const auto n : lines) out += (out.empty() ? "" : ", ") + std::to_string(n);
  if (total > lines.size()) out += ", ...";
  return out;
}

}  // namespace

Intel::Intel(const DetectorConfig& config, topology::RunnerProbe& probe, bool online)
    : config_(config), probe_(probe), online_(online) {}

Result<std::unique_ptr<Intel>> Intel::start(const DetectorConfig& config, const detect::RulePack& pack,
                                            topology::RunnerProbe& probe, bool online) {
  std::unique_ptr<Intel> intel(new Intel(config, probe, online));
  std::vector<detect::FeedSpec> specs;
  for (const auto& f : config.intel.feeds) {
    // The config loader accepted only known format names.
    specs.push_back({f.name, f.path, detect::parse_feed_format(f.format).value_or(detect::FeedFormat::kAuto)});
  }
  if (!specs.empty()) {
    auto files = detect::FeedSet::load(specs);
    if (!files.is_ok()) return files.status();
    intel->log_files(*files.value(), pack);
    probe.on_blocklist_files(*files.value());
    intel->blocklist_->set_files(std::move(files.value()));
    // Checked like the rule pack: every 5 s online, only on request offline (files do not
    // change under a finite run).
    intel->watcher_ = std::make_unique<detect::FeedWatcher>(std::move(specs), online ? 5s : 0s);
  }
  probe.on_blocklist_topic_up(false);
  return intel;
}

void Intel::log_files(const detect::FeedSet& files, const detect::RulePack& pack) const {
  for (const auto& feed : files.feeds()) {
    spdlog::info("blocklist feed '{}': {} domains, {} exceptions from {} ({} format)", feed.name, feed.entries,
                 feed.exceptions, feed.path, detect::feed_format_name(feed.format));
    if (feed.malformed > 0) {
      spdlog::warn("blocklist feed '{}': {} malformed lines skipped (lines {})", feed.name, feed.malformed,
                   line_list(feed.malformed_lines, feed.malformed));
    }
    if (feed.skipped > 0) {
      spdlog::info("blocklist feed '{}': {} rules that do not block a whole domain skipped", feed.name, feed.skipped);
    }
  }
  std::vector<std::string> listed;
  for (const auto& [domain, feed] : files.entries()) {
    const std::string_view official = detect::official_domain_of(domain, pack);
    if (!official.empty()) {
      listed.push_back(domain + " (feed '" + files.feeds()[feed].name + "', brand " +
                       pack.official.find(official)->second + ")");
    }
  }
  std::sort(listed.begin(), listed.end());
  for (const auto& l : listed) spdlog::warn("blocklist lists an official brand domain, never flagged: {}", l);
}

bool Intel::open_topic() {
  const std::string& topic = config_.intel.blocklist_topic;
  io::KafkaSourceOptions options;
  // Only the common client properties (bootstrap, security): the detector's consumer-group
  // settings are not this consumer's.
  options.properties = config_.kafka.common;
  options.topics = {topic};
  options.assign_all = true;
  options.start = io::StartAt::kBeginning;
  auto source = io::open_kafka_source(options);
  if (!source.is_ok()) {
    if (!warned_missing_) {
      spdlog::warn("blocklist topic {}: {}; entries from Kafka are off until it can be read (retried every {} s)",
                   topic, source.status().message(), std::chrono::seconds(kReopenEvery).count());
      warned_missing_ = true;
    }
    next_open_ = std::chrono::steady_clock::now() + kReopenEvery;
    return false;
  }
  topic_source_ = std::move(source.value());
  warned_missing_ = false;
  probe_.on_blocklist_topic_up(true);
  spdlog::info("reading blocklist topic {} from the beginning", topic);
  return true;
}

bool Intel::poll_topic(const detect::RulePack& pack, std::chrono::milliseconds wait, std::size_t* records) {
  auto counts = topic_.poll(*topic_source_, wait, kTopicRecordsPerPoll, &pack);
  if (!counts.is_ok()) {
    spdlog::error("blocklist topic {}: {}; reopening it", config_.intel.blocklist_topic, counts.status().message());
    topic_source_->close();
    topic_source_.reset();
    probe_.on_blocklist_topic_up(false);
    next_open_ = std::chrono::steady_clock::now() + 1s;
    return false;
  }
  const auto& c = counts.value();
  if (records != nullptr) *records = c.records;
  for (const auto& note : c.notes) spdlog::warn("blocklist topic {}", note);
  if (c.malformed > 0) probe_.on_blocklist_malformed_records(c.malformed);
  if (c.changed > 0) probe_.on_blocklist_topic(blocklist_->topic_feeds());
  return true;
}

void Intel::catch_up(const detect::RulePack& pack) {
  if (!online_ || config_.intel.blocklist_topic.empty() || !open_topic()) return;
  const auto started = std::chrono::steady_clock::now();
  // The end as of now: the high watermark of every partition that holds records.
  std::vector<io::TopicPartitionOffset> ends;
  bool end_known = false;
  auto admin_props = config_.kafka.common;
  admin_props["log_level"] = "3";
  auto admin = io::open_kafka_admin(admin_props);
  auto marks = admin.is_ok() ? admin.value()->watermarks({config_.intel.blocklist_topic})
                             : Result<std::vector<io::PartitionWatermarks>>(admin.status());
  if (marks.is_ok()) {
    end_known = true;
    for (const auto& m : marks.value()) {
      if (m.high > m.low) ends.push_back({m.topic, m.partition, m.high});
    }
  } else {
    spdlog::warn("blocklist topic {}: cannot read where it ends ({}); reading until it goes quiet",
                 config_.intel.blocklist_topic, marks.status().message());
  }
  const auto deadline = started + std::chrono::seconds(config_.intel.startup_wait_seconds);
  int quiet_polls = 0;
  bool done = end_known && topic_.reached(ends);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::size_t records = 0;
    if (!poll_topic(pack, 200ms, &records)) break;
    quiet_polls = records == 0 ? quiet_polls + 1 : 0;
    // A transaction's commit marker holds the last offset and is never delivered: when the
    // records stop one short of the end, that was it.
    done = end_known ? topic_.reached(ends) || (quiet_polls >= 2 && topic_.reached(ends, 1)) : quiet_polls >= 5;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (done) {
    spdlog::info("blocklist topic {}: {} entries ({:.1f} s to read)", config_.intel.blocklist_topic,
                 blocklist_->topic_size(), seconds);
  } else {
    spdlog::warn(
        "blocklist topic {}: not read to its end after {:.0f} s ({} entries so far); the rest is applied "
        "between batches",
        config_.intel.blocklist_topic, seconds, blocklist_->topic_size());
  }
  probe_.on_blocklist_topic(blocklist_->topic_feeds());
}

void Intel::between_batches(const detect::RulePack& pack, bool reload) {
  if (watcher_ != nullptr) {
    if (reload) watcher_->request();
    auto outcome = watcher_->poll();
    if (outcome.feeds != nullptr) {
      log_files(*outcome.feeds, pack);
      probe_.on_blocklist_files(*outcome.feeds);
      blocklist_->set_files(std::move(outcome.feeds));
      spdlog::info("blocklist feeds reloaded");
    } else if (!outcome.error.is_ok()) {
      probe_.on_blocklist_rejected();
      spdlog::error("blocklist reload rejected, keeping the feeds in use: {}", outcome.error.message());
    }
  }
  if (!online_ || config_.intel.blocklist_topic.empty()) return;
  if (topic_source_ == nullptr) {
    if (std::chrono::steady_clock::now() < next_open_ || !open_topic()) return;
  }
  poll_topic(pack, 0ms);
}

void Intel::close() {
  if (topic_source_ != nullptr) topic_source_->close();
}

}  // namespace vigil::detector
