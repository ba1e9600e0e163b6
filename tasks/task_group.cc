#include "tasks/task_group.h"

namespace corio {

void TaskGroup::Cancel() {
  cancelled_ = true;
  group_.CancelAll();
}

void TaskGroup::OnChildDone(void* self, tasks_internal::PromiseBase* done) {
  TaskGroup& g = *static_cast<TaskGroup*>(self);
  if (g.failure_.ok() && !g.exception_) {
    if (done->exception) {
      g.exception_ = done->exception;
      g.group_.CancelAll();
    } else if (absl::Status outcome = g.group_.Outcome(done); !outcome.ok()) {
      g.failure_ = std::move(outcome);
      g.group_.CancelAll();
    }
  }
  g.group_.Release(done);  // results are not kept: free the frame (and what it holds) now
}

Task<absl::Status> TaskGroup::Wait() {
  while (group_.running() > 0) co_await group_.WaitForCompletion();
  // Children that return normally when cancelled (Task<void>) do not say the wait was.
  const bool waiter_cancelled = co_await tasks_internal::CheckCancelled();
  if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  if (!failure_.ok()) co_return failure_;
  if (cancelled_) co_return absl::CancelledError("TaskGroup cancelled");
  if (waiter_cancelled) co_return absl::CancelledError("TaskGroup::Wait cancelled");
  co_return absl::OkStatus();
}

}  // namespace corio
