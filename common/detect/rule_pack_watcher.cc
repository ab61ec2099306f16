#include "common/detect/rule_pack_watcher.h"

#include <sys/stat.h>

namespace vigil::detect {

RulePackWatcher::RulePackWatcher(std::string path, std::chrono::milliseconds check_every)
    : path_(std::move(path)),
      check_every_(check_every),
      next_check_(std::chrono::steady_clock::now() + check_every),
      seen_(stamp()) {}

RulePackWatcher::Stamp RulePackWatcher::stamp() const {
  struct stat st = {};
  if (::stat(path_.c_str(), &st) != 0) return {};
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size)};
}

RulePackWatcher::Outcome RulePackWatcher::poll() {
  bool due = requested_.exchange(false, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (!due && check_every_.count() > 0 && now >= next_check_) {
    next_check_ = now + check_every_;
    // Editors and ConfigMap updates replace the file: a new mtime or size is a change.
    due = !(stamp() == seen_);
  }
  if (!due) return {};
  seen_ = stamp();
  auto loaded = load_rule_pack(path_);
  if (!loaded.is_ok()) return {nullptr, loaded.status()};
  return {std::move(loaded.value()), Status::ok()};
}

}  // namespace vigil::detect
