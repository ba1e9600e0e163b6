// Run: asyncio.run for corio. Runs `task` on an event loop until it finishes, then cancels
// every task it left running and waits for them, and returns the task's result.
//
//   corio::Task<absl::Status> Main() { ... }
//   int main() { return corio::Run(Main()).ok() ? 0 : 1; }
//
//   auto loop = corio::EventLoop::Create(options).value();
//   absl::StatusOr<int> n = corio::Run(*loop, Count());   // on a loop you configured
//
// Completion contract: returns on the calling thread once the main task and every task still
// alive at its end (cancelled, then drained) have finished. Returns ResultOfT<T> (see spawn.h);
// an exception that escaped the main task is rethrown here.
// Errors: FAILED_PRECONDITION when called from inside a running loop (use co_await or Spawn
// there); the loop's own error (poller failure) otherwise.
#ifndef CORIO_TASKS_RUN_H_
#define CORIO_TASKS_RUN_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {
namespace tasks_internal {
// Cancels every task still alive on `loop` and runs it until they have all finished.
absl::Status CancelAndDrain(EventLoop& loop);
}  // namespace tasks_internal

template <typename T>
ResultOfT<T> Run(EventLoop& loop, Task<T> task) {
  if (EventLoop::Current() != nullptr) {
    return absl::FailedPreconditionError(
        "corio::Run called inside a running event loop; co_await or Spawn the task instead");
  }
  JoinHandle<T> main = Spawn(loop, std::move(task));
  absl::Status loop_status = loop.RunUntil([&] { return main.done(); });
  absl::Status drain_status = tasks_internal::CancelAndDrain(loop);
  if (!main.done()) {
    // The loop itself failed (or was stopped) before the task finished.
    main.Cancel();
    return !loop_status.ok() ? loop_status
                             : absl::CancelledError("event loop stopped before the task finished");
  }
  if (!drain_status.ok() && loop_status.ok()) loop_status = drain_status;
  ResultOfT<T> result = std::move(main).TakeResult();
  if (!loop_status.ok()) return loop_status;
  return result;
}

template <typename T>
ResultOfT<T> Run(Task<T> task) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  return Run(**loop, std::move(task));
}

}  // namespace corio

#endif  // CORIO_TASKS_RUN_H_
