#include "common/state/window.h"

#include <algorithm>

namespace vigil::state {
namespace {

// Floor division: event times before 1970 are rare but legal.
TimestampMs floor_to(TimestampMs t, TimestampMs step) {
  const TimestampMs q = t / step;
  return (t % step != 0 && t < 0 ? q - 1 : q) * step;
}

}  // namespace

void WindowSpec::starts_containing(TimestampMs t, std::vector<TimestampMs>& out) const {
  out.clear();
  if (advance <= 0 || size <= 0) return;  // rejected when the rule pack loads
  for (TimestampMs s = floor_to(t, advance); s + size > t; s -= advance) out.push_back(s);
  std::reverse(out.begin(), out.end());
}

WindowCount& WindowedCounts::window(TimestampMs start) {
  auto it = std::lower_bound(windows_.begin(), windows_.end(), start,
                             [](const WindowCount& w, TimestampMs s) { return w.start < s; });
  if (it == windows_.end() || it->start != start) {
    it = windows_.insert(it, WindowCount());
    it->start = start;
  }
  return *it;
}

void WindowedCounts::prune(const WindowSpec& spec, TimestampMs stream_time) {
  std::erase_if(windows_, [&](const WindowCount& w) { return spec.closed(w.start, stream_time); });
}

TimestampMs WindowedCounts::closes_at(const WindowSpec& spec) const {
  return windows_.empty() ? 0 : windows_.back().start + spec.size + spec.grace;
}

void WindowedCounts::encode(Encoder& out) const {
  out.varint(windows_.size());
  for (const auto& w : windows_) {
    out.signed_varint(w.start).varint(w.posts).varint(w.reported);
    w.distinct.encode(out);
  }
}

bool WindowedCounts::decode(Decoder& in) {
  windows_.clear();
  std::uint64_t n = 0;
  // Each window takes at least four bytes; a count beyond that is corruption.
  if (!in.varint(n) || n > in.rest().size() / 4) return false;
  windows_.resize(n);
  for (auto& w : windows_) {
    if (!in.signed_varint(w.start) || !in.varint(w.posts) || !in.varint(w.reported) || !w.distinct.decode(in))
      return false;
  }
  return std::is_sorted(windows_.begin(), windows_.end(),
                        [](const WindowCount& a, const WindowCount& b) { return a.start < b.start; });
}

}  // namespace vigil::state
