#include "services/archive/probe.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace vigil::archive {

struct ArchiveProbe::Families {
  prometheus::Family<prometheus::Counter>& records;
  prometheus::Family<prometheus::Counter>& files;
  prometheus::Family<prometheus::Counter>& bytes;
  prometheus::Counter& skipped;
  prometheus::Counter& commit_failures;
  prometheus::Gauge& last_file;
  prometheus::Gauge& ready;
};

ArchiveProbe::ArchiveProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health)
    : health_(std::move(health)) {
  using namespace prometheus;
  families_.reset(new Families{
      BuildCounter()
          .Name("vigil_archive_records_total")
          .Help("Records in closed (durable) archive files, by topic")
          .Register(registry),
      BuildCounter().Name("vigil_archive_files_total").Help("Archive files closed, by topic").Register(registry),
      BuildCounter()
          .Name("vigil_archive_bytes_total")
          .Help("Compressed bytes in closed archive files, by topic")
          .Register(registry),
      BuildCounter()
          .Name("vigil_archive_skipped_total")
          .Help("Re-delivered records skipped because they were already archived")
          .Register(registry)
          .Add({}),
      BuildCounter()
          .Name("vigil_archive_commit_failures_total")
          .Help("Closed files whose offset commit failed (a restart skips their records by file name)")
          .Register(registry)
          .Add({}),
      BuildGauge()
          .Name("vigil_archive_last_file_timestamp_seconds")
          .Help("Wall-clock time the last archive file was closed")
          .Register(registry)
          .Add({}),
      BuildGauge().Name("vigil_ready").Help("1 when the archiver has joined its group").Register(registry).Add({}),
  });
}

ArchiveProbe::~ArchiveProbe() = default;

void ArchiveProbe::on_round(bool source_ready) {
  health_->heartbeat();
  health_->set_ready(source_ready);
  families_->ready.Set(source_ready ? 1 : 0);
}

void ArchiveProbe::on_file_closed(const ArchiveFile& file, std::uint64_t records, std::uint64_t bytes, bool committed) {
  families_->records.Add({{"topic", file.topic}}).Increment(static_cast<double>(records));
  families_->files.Add({{"topic", file.topic}}).Increment();
  families_->bytes.Add({{"topic", file.topic}}).Increment(static_cast<double>(bytes));
  if (!committed) families_->commit_failures.Increment();
  families_->last_file.SetToCurrentTime();
}

void ArchiveProbe::on_skipped(std::uint64_t records) {
  families_->skipped.Increment(static_cast<double>(records));
}

}  // namespace vigil::archive
