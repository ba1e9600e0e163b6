#include "tasks/run.h"

namespace corio::tasks_internal {

absl::Status CancelAndDrain(EventLoop& loop) {
  Registry& registry = loop.Local<Registry>();
  if (registry.size() == 0) return absl::OkStatus();
  registry.CancelAll();
  return loop.RunUntil([&] {
    // Tasks spawned while draining are cancelled too.
    if (registry.size() > 0) registry.CancelAll();
    return registry.size() == 0;
  });
}

}  // namespace corio::tasks_internal
