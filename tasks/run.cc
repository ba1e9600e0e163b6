#include "tasks/run.h"

namespace corio::tasks_internal {

absl::Status CancelAndDrain(EventLoop& loop) {
  Registry& registry = loop.Local<Registry>();
  if (registry.size() == 0) return absl::OkStatus();
  // Cancel from inside the running loop (RunUntil's predicate runs there): a cancelled waiter
  // is rescheduled on EventLoop::Current(). Tasks spawned while draining are cancelled too.
  return loop.RunUntil([&] {
    if (registry.size() > 0) registry.CancelAll();
    return registry.size() == 0;
  });
}

}  // namespace corio::tasks_internal
