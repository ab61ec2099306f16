#include "common/topology/restorer.h"

#include <algorithm>
#include <chrono>

namespace vigil::topology {

Restorer::Restorer(state::Store& store, ChangelogReader& reader, std::vector<std::string> stores)
    : store_(store), reader_(reader), stores_(std::move(stores)), thread_([this] { loop(); }) {}

Restorer::~Restorer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cancel_running_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Restorer::start(std::int32_t partition) {
  {
    std::lock_guard lock(mu_);
    // A running restore that was cancelled (revoked, then given back before it stopped)
    // reports nothing: queue the partition again, or it would never be restored.
    if ((running_ == partition && !cancel_running_) ||
        std::find(queue_.begin(), queue_.end(), partition) != queue_.end())
      return;
    done_.erase(partition);
    queue_.push_back(partition);
  }
  cv_.notify_all();
}

void Restorer::cancel(std::int32_t partition) {
  std::lock_guard lock(mu_);
  std::erase(queue_, partition);
  done_.erase(partition);
  if (running_ == partition) cancel_running_ = true;
}

Restored Restorer::wait(std::int32_t partition) {
  std::unique_lock lock(mu_);
  if ((running_ != partition || cancel_running_) && done_.count(partition) == 0) {
    std::erase(queue_, partition);
    queue_.push_front(partition);
    cv_.notify_all();
  }
  cv_.wait(lock, [&] { return done_.count(partition) > 0; });
  Restored out = std::move(done_[partition]);
  done_.erase(partition);
  return out;
}

std::vector<Restored> Restorer::take_done() {
  std::lock_guard lock(mu_);
  std::vector<Restored> out;
  for (auto& [p, r] : done_) out.push_back(std::move(r));
  done_.clear();
  return out;
}

std::vector<io::Record> Restorer::take_bad() {
  std::lock_guard lock(mu_);
  return std::exchange(bad_, {});
}

std::size_t Restorer::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + (running_ >= 0 ? 1 : 0);
}

void Restorer::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    const std::int32_t partition = queue_.front();
    queue_.pop_front();
    running_ = partition;
    cancel_running_ = false;
    lock.unlock();
    Restored r = restore(partition);
    lock.lock();
    const bool cancelled = cancel_running_;
    running_ = -1;
    if (!cancelled) done_[partition] = std::move(r);
    cv_.notify_all();
  }
}

Restored Restorer::restore(std::int32_t partition) {
  const auto started = std::chrono::steady_clock::now();
  Restored out;
  out.partition = partition;
  auto checkpoint = store_.checkpoint(partition);
  if (!checkpoint.is_ok()) {
    out.status = checkpoint.status();
    return out;
  }
  std::int64_t from = checkpoint.value() ? checkpoint.value()->next_offset : 0;
  std::vector<state::ChangelogEntry> batch;
  Status failed;
  const auto flush = [&] {
    if (!batch.empty() && failed.is_ok()) failed = store_.restore(batch);
    batch.clear();
  };
  const auto apply = [&](const io::Record& r) {
    {
      std::lock_guard lock(mu_);
      if (cancel_running_) return false;
    }
    const std::string_view key = r.key ? std::string_view(*r.key) : std::string_view();
    const auto slash = key.find('/');
    const std::string_view store = slash == std::string_view::npos ? key : key.substr(0, slash);
    state::Stored probe;
    if (slash == std::string_view::npos || std::find(stores_.begin(), stores_.end(), store) == stores_.end() ||
        (r.value && !state::decode_stored(*r.value, probe))) {
      std::lock_guard lock(mu_);
      bad_.push_back(r);
      return true;
    }
    batch.push_back({std::string(store), partition, std::string(key.substr(slash + 1)), r.value});
    ++out.records;
    if (batch.size() >= 1000) flush();
    return failed.is_ok();
  };
  auto next = reader_.read(partition, from, apply);
  if (!next.is_ok() && next.status().code() == Code::kNotFound && from > 0) {
    // The checkpoint is not in the changelog any more (the topic was re-created, or the
    // offset was compacted away): local state cannot be trusted; start over.
    batch.clear();
    out.records = 0;
    if (Status st = store_.drop_partition(partition); !st.is_ok()) {
      out.status = st;
      return out;
    }
    from = 0;
    next = reader_.read(partition, from, apply);
  }
  flush();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!failed.is_ok()) {
    out.status = failed;
  } else if (!next.is_ok()) {
    out.status = next.status();
  } else {
    std::lock_guard lock(mu_);
    if (cancel_running_) return out;  // no checkpoint for a partial read
    out.status = store_.set_checkpoint({partition, next.value()});
  }
  return out;
}

}  // namespace vigil::topology
