// Shield: run a task that the caller's cancellation must not interrupt (cleanup, a commit),
// and wait for it. Unlike asyncio.shield the caller does not abandon the shielded task: it
// waits for it to finish (structured), then sees its own cancellation at its next suspension
// point.
//
//   absl::Status s = co_await corio::Shield(conn.Close());   // runs to completion
//
// Completion contract: the task starts on the next loop turn in its own scope; Shield resumes
// once, on the loop's thread, when it finished, with its ResultOfT<T> (exceptions rethrown).
// Threading: on a thread running an EventLoop.
#ifndef CORIO_TASKS_SHIELD_H_
#define CORIO_TASKS_SHIELD_H_

#include <utility>

#include "base/config.h"  // first: a clear error below C++20
#include "tasks/child_group.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {

template <typename T>
Task<ResultOfT<T>> Shield(Task<T> task) {
  tasks_internal::ChildGroup group(/*propagate_cancel=*/false);
  auto child = group.Add(std::move(task));
  while (group.running() > 0) co_await group.WaitForCompletion();
  co_return tasks_internal::TakeResult(child.promise());
}

}  // namespace corio

#endif  // CORIO_TASKS_SHIELD_H_
