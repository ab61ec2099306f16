#pragma once

#include <memory>

#include "common/metrics/server.h"
#include "services/archive/archive.h"

namespace prometheus {
class Registry;
}

namespace vigil::archive {

// Owns vigil-archive's metric families and the health its /healthz and /readyz read.
// Lifecycle: created before the archiver, outlives it. Called on the archiving thread;
// prometheus-cpp metrics are safe to read from the HTTP threads meanwhile.
class ArchiveProbe final : public ArchiveObserver {
 public:
  ArchiveProbe(prometheus::Registry& registry, std::shared_ptr<metrics::Health> health);
  ~ArchiveProbe() override;

  void on_round(bool source_ready) override;
  void on_file_closed(const ArchiveFile& file, std::uint64_t records, std::uint64_t bytes, bool committed) override;
  void on_skipped(std::uint64_t records) override;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
  std::shared_ptr<metrics::Health> health_;
};

}  // namespace vigil::archive
