#include "tasks/condition.h"

#include "base/check.h"

namespace corio {

Task<absl::Status> Condition::Wait() {
  CORIO_CHECK_MSG(mu_.is_locked(), "corio::Condition::Wait without holding its mutex");
  NotifyAwaiter notified(*this);
  const bool ok = co_await notified;
  if (notified.suspended()) {
    // We gave the mutex up: take it back, even if cancelled, before returning to the caller,
    // whose MutexLock owns it again (so this one must not unlock it).
    absl::StatusOr<MutexLock> relock = co_await mu_.LockIgnoringCancellation();
    CORIO_CHECK(relock.ok());
    relock->Release();
  }
  co_return ok ? absl::OkStatus() : absl::CancelledError("Condition wait cancelled");
}

}  // namespace corio
