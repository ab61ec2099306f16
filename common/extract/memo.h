#pragma once

// Private to vigil_extract: answers remembered by string key, for lookups that posts repeat
// (a host's registrable domain, libpsl's answer for a host suffix, a host's IDNA form).

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace vigil::extract::detail {

// Direct-mapped: a key's slot holds the last key that hashed there. Lifecycle: one per call
// site, thread_local, so any thread may call its own; get() returns a reference valid until
// the next get() on the same memo.
template <typename Value, std::size_t kSlots>
class Memo {
 public:
  // The value remembered for `key`, or compute(value) run into the slot first on a miss
  // (the slot's buffers are reused).
  template <typename Compute>
  const Value& get(std::string_view key, Compute&& compute) {
    Slot& slot = slots_[std::hash<std::string_view>{}(key) % kSlots];
    if (!slot.used || slot.key != key) {
      compute(slot.value);
      slot.key.assign(key);
      slot.used = true;
    }
    return slot.value;
  }

 private:
  struct Slot {
    std::string key;
    Value value{};
    bool used = false;
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace vigil::extract::detail
