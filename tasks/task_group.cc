#include "tasks/task_group.h"

namespace corio {

void TaskGroup::Cancel() {
  cancelled_ = true;
  group_.CancelAll();
}

void TaskGroup::Collect() {
  while (tasks_internal::PromiseBase* done = group_.NextCompleted()) {
    if (failure_.ok() && !exception_) {
      if (done->exception) {
        exception_ = done->exception;
        group_.CancelAll();
      } else if (absl::Status outcome = group_.Outcome(done); !outcome.ok()) {
        failure_ = std::move(outcome);
        group_.CancelAll();
      }
    }
    group_.Release(done);  // results are not kept: free the frame now
  }
}

Task<absl::Status> TaskGroup::Wait() {
  for (;;) {
    Collect();
    if (group_.running() == 0) break;
    co_await group_.WaitForCompletion();
  }
  if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  if (!failure_.ok()) co_return failure_;
  if (cancelled_) co_return absl::CancelledError("TaskGroup cancelled");
  co_return absl::OkStatus();
}

}  // namespace corio
