#include "tasks/sleep.h"

namespace corio {

SleepAwaiter Sleep(absl::Duration d) {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr, "corio::Sleep: no event loop is running on this thread");
  return SleepAwaiter(loop->Now() + (d < absl::ZeroDuration() ? absl::ZeroDuration() : d));
}

SleepAwaiter SleepUntil(absl::Time deadline) { return SleepAwaiter(deadline); }

}  // namespace corio
