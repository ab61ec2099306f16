#include "common/topology/probe.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace vigil::topology {

struct RunnerProbe::Families {
  prometheus::Family<prometheus::Counter>& records;
  prometheus::Family<prometheus::Counter>& flags;
  prometheus::Family<prometheus::Counter>& dead_letters;
  prometheus::Counter& events;
  prometheus::Counter& skipped;
  prometheus::Family<prometheus::Counter>& batches;
  prometheus::Histogram& batch_seconds;
  prometheus::Gauge& last_commit;
  prometheus::Gauge& ready;
  prometheus::Family<prometheus::Gauge>& lag;
  prometheus::Family<prometheus::Counter>& rule_hits;
  prometheus::Histogram& event_to_flag;
  prometheus::Histogram& commit_seconds;
  prometheus::Counter& rebalances;
  prometheus::Gauge& assigned;
  prometheus::Family<prometheus::Gauge>& blocklist_entries;
  prometheus::Family<prometheus::Gauge>& blocklist_malformed_lines;
  prometheus::Family<prometheus::Counter>& blocklist_hits;
  prometheus::Counter& blocklist_reload_failures;
  prometheus::Counter& blocklist_malformed_records;
  prometheus::Gauge& blocklist_topic_up;
};

RunnerProbe::RunnerProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health,
                         const std::string& rule_pack, std::string_view prefix, int health_part)
    : health_(std::move(health)), health_part_(health_part) {
  using namespace prometheus;
  // Families of the loop itself carry the stage's prefix; what the stages produce (records
  // in, flags, dead letters, rule hits) shares one family, labelled by topic or category.
  const auto named = [prefix](std::string_view base) {
    std::string name(prefix);
    name.append(base);
    return name;
  };
  auto& events = BuildCounter().Name(named("events_total")).Help("Records parsed into events").Register(registry);
  auto& skipped = BuildCounter()
                      .Name(named("records_skipped_total"))
                      .Help("Well-formed records with nothing to analyse")
                      .Register(registry);
  auto& seconds =
      BuildHistogram().Name(named("batch_seconds")).Help("Processing plus commit time of a batch").Register(registry);
  auto& last_commit = BuildGauge()
                          .Name(named("last_commit_timestamp_seconds"))
                          .Help("Wall-clock time of the last committed batch")
                          .Register(registry);
  auto& ready = BuildGauge()
                    .Name(named("ready"))
                    .Help("1 when the worker has joined its group (or reads files)")
                    .Register(registry);
  families_.reset(new Families{
      BuildCounter().Name("vigil_records_in_total").Help("Records read, by source topic").Register(registry),
      BuildCounter().Name("vigil_flags_total").Help("Flags published, by category and severity").Register(registry),
      BuildCounter().Name("vigil_dead_letters_total").Help("Records dead-lettered, by reason").Register(registry),
      events.Add({}),
      skipped.Add({}),
      BuildCounter().Name(named("batches_total")).Help("Batches, by result (committed, aborted)").Register(registry),
      seconds.Add({}, Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      last_commit.Add({}),
      ready.Add({}),
      BuildGauge()
          .Name(named("consumer_lag"))
          .Help("Records behind the end of each assigned partition")
          .Register(registry),
      BuildCounter()
          .Name("vigil_rule_hits_total")
          .Help("Rules that fired in published flags, by rule id")
          .Register(registry),
      BuildHistogram()
          .Name(named("event_to_flag_seconds"))
          .Help("From the input record's Kafka timestamp to its flag's commit (records older than an hour, "
                "i.e. replays and backlogs, left out)")
          .Register(registry)
          .Add({}, Histogram::BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}),
      BuildHistogram()
          .Name(named("transaction_commit_seconds"))
          .Help("Time to commit a batch: the Kafka transaction with its offsets (online) or the fsync (offline)")
          .Register(registry)
          .Add({}, Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
      BuildCounter()
          .Name(named("rebalances_total"))
          .Help("Consumer-group rebalance steps (assignments and revocations) seen by this worker")
          .Register(registry)
          .Add({}),
      BuildGauge()
          .Name(named("assigned_partitions"))
          .Help("Input partitions assigned to this worker")
          .Register(registry)
          .Add({}),
      BuildGauge()
          .Name("vigil_blocklist_entries")
          .Help("Known-bad domains in use, by feed and source (file, topic)")
          .Register(registry),
      BuildGauge()
          .Name("vigil_blocklist_malformed_lines")
          .Help("Lines of each feed file that were not usable entries (skipped) in the loaded version")
          .Register(registry),
      BuildCounter()
          .Name("vigil_blocklist_hits_total")
          .Help("Published flags with a known-bad feed hit, by feed")
          .Register(registry),
      BuildCounter()
          .Name("vigil_blocklist_reload_failures_total")
          .Help("Feed-file reloads rejected (the previous feeds keep running)")
          .Register(registry)
          .Add({}),
      BuildCounter()
          .Name("vigil_blocklist_malformed_records_total")
          .Help("Records of the blocklist topic that were not entries (skipped)")
          .Register(registry)
          .Add({}),
      BuildGauge()
          .Name("vigil_blocklist_topic_up")
          .Help("1 while the blocklist topic is being read, 0 when it is off or does not exist yet")
          .Register(registry)
          .Add({}),
  });
  reload_failures_ = &BuildCounter()
                          .Name("vigil_rule_pack_reload_failures_total")
                          .Help("Rule packs rejected on reload (the previous pack keeps running)")
                          .Register(registry)
                          .Add({});
  rule_pack_info_ =
      &BuildGauge().Name("vigil_rule_pack_info").Help("The rule pack in use (value 1)").Register(registry);
  rule_pack_version_ = rule_pack;
  rule_pack_info_->Add({{"version", rule_pack}}).Set(1);
}

RunnerProbe::~RunnerProbe() = default;

void RunnerProbe::on_poll(bool source_ready) {
  health_->heartbeat();
  health_->set_ready(source_ready, health_part_);
  families_->ready.Set(source_ready ? 1 : 0);
}

void RunnerProbe::on_commit(const Stats& batch, double seconds, double commit_seconds) {
  for (const auto& [topic, n] : batch.records_by_topic)
    families_->records.Add({{"topic", topic}}).Increment(static_cast<double>(n));
  for (const auto& [key, n] : batch.flags_by_category_severity)
    families_->flags.Add({{"category", key.first}, {"severity", key.second}}).Increment(static_cast<double>(n));
  for (const auto& [rule, n] : batch.rule_hits)
    families_->rule_hits.Add({{"rule", rule}}).Increment(static_cast<double>(n));
  for (const auto& [feed, n] : batch.blocklist_hits)
    families_->blocklist_hits.Add({{"feed", feed}}).Increment(static_cast<double>(n));
  const TimestampMs now = wall_clock_ms();
  for (const TimestampMs t : batch.flag_record_times) {
    const TimestampMs age = now - t;
    if (age >= 0 && age <= 3'600'000) families_->event_to_flag.Observe(static_cast<double>(age) / 1000.0);
  }
  families_->commit_seconds.Observe(commit_seconds);
  for (const auto& [reason, n] : batch.dead_letters_by_reason)
    families_->dead_letters.Add({{"reason", reason}}).Increment(static_cast<double>(n));
  families_->events.Increment(static_cast<double>(batch.events));
  families_->skipped.Increment(static_cast<double>(batch.skipped));
  families_->batches.Add({{"result", "committed"}}).Increment();
  families_->batch_seconds.Observe(seconds);
  families_->last_commit.SetToCurrentTime();
}

void RunnerProbe::on_consumer_lag(const std::string& topic, std::int32_t partition, std::int64_t lag) {
  families_->lag.Add({{"topic", topic}, {"partition", std::to_string(partition)}}).Set(static_cast<double>(lag));
}

void RunnerProbe::on_rule_pack_loaded(const std::string& version) {
  if (version == rule_pack_version_) return;
  rule_pack_info_->Remove(&rule_pack_info_->Add({{"version", rule_pack_version_}}));
  rule_pack_version_ = version;
  rule_pack_info_->Add({{"version", version}}).Set(1);
}

void RunnerProbe::on_rule_pack_rejected() {
  reload_failures_->Increment();
}

void RunnerProbe::on_revoked(const std::string& topic, std::int32_t partition) {
  const prometheus::Labels labels{{"topic", topic}, {"partition", std::to_string(partition)}};
  if (families_->lag.Has(labels)) families_->lag.Remove(&families_->lag.Add(labels));
}

void RunnerProbe::on_blocklist_files(const detect::FeedSet& files) {
  for (const auto& feed : files.feeds()) {
    families_->blocklist_entries.Add({{"feed", feed.name}, {"source", "file"}}).Set(static_cast<double>(feed.entries));
    families_->blocklist_malformed_lines.Add({{"feed", feed.name}}).Set(static_cast<double>(feed.malformed));
  }
}

void RunnerProbe::on_blocklist_rejected() {
  families_->blocklist_reload_failures.Increment();
}

void RunnerProbe::on_blocklist_topic(const std::map<std::string, std::size_t>& entries_by_feed) {
  // A feed whose last entry was removed reads 0 rather than vanishing, so a dashboard sees it go.
  for (const auto& [feed, n] : topic_feeds_) {
    if (entries_by_feed.count(feed) == 0)
      families_->blocklist_entries.Add({{"feed", feed}, {"source", "topic"}}).Set(0);
  }
  for (const auto& [feed, n] : entries_by_feed) {
    families_->blocklist_entries.Add({{"feed", feed}, {"source", "topic"}}).Set(static_cast<double>(n));
  }
  for (const auto& [feed, n] : entries_by_feed) topic_feeds_[feed] = n;
}

void RunnerProbe::on_blocklist_malformed_records(std::size_t count) {
  families_->blocklist_malformed_records.Increment(static_cast<double>(count));
}

void RunnerProbe::on_blocklist_topic_up(bool up) {
  families_->blocklist_topic_up.Set(up ? 1 : 0);
}

void RunnerProbe::on_rebalance(std::size_t assigned_partitions) {
  families_->rebalances.Increment();
  families_->assigned.Set(static_cast<double>(assigned_partitions));
}

void RunnerProbe::on_abort() {
  families_->batches.Add({{"result", "aborted"}}).Increment();
}

}  // namespace vigil::topology
