#include "tasks/run.h"

namespace corio::tasks_internal {

absl::Status CancelAndDrain(EventLoop& loop) {
  Registry& registry = RegistryOf(loop);
  if (registry.size() == 0) return absl::OkStatus();
  // Cancelling outside the running loop is fine: a cancelled waiter is rescheduled on its own
  // loop, running or not. Tasks spawned while draining are cancelled too.
  registry.CancelAllTasks();
  absl::Status s = loop.RunUntil([&] { return registry.size() == 0; });
  registry.set_cancel_new(false);  // the loop may run more tasks later
  return s;
}

}  // namespace corio::tasks_internal
