#include "testing/virtual_clock.h"

namespace corio::testing {

void VirtualClock::Advance(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  now_ns_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
}

void VirtualClock::AdvanceTo(absl::Time t) {
  const int64_t target = absl::ToUnixNanos(t);
  int64_t cur = now_ns_.load(std::memory_order_acquire);
  while (cur < target && !now_ns_.compare_exchange_weak(cur, target, std::memory_order_acq_rel)) {
  }
}

bool VirtualClock::AdvanceWhenIdle(absl::Time deadline) {
  if (!auto_advance_.load(std::memory_order_relaxed)) return false;
  AdvanceTo(deadline);
  return true;
}

}  // namespace corio::testing
