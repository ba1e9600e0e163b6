#include "tasks/gather.h"

namespace corio::tasks_internal {

Task<absl::Status> WaitAllFailFast(ChildGroup& group, std::exception_ptr* exception) {
  absl::Status failure;
  for (;;) {
    while (PromiseBase* done = group.NextCompleted()) {
      if (!failure.ok() || *exception) continue;  // keep the first failure only
      if (done->exception) {
        *exception = done->exception;
        group.CancelAll();
        continue;
      }
      absl::Status outcome = group.Outcome(done);
      if (!outcome.ok()) {
        failure = std::move(outcome);
        group.CancelAll();
      }
    }
    if (group.running() == 0) break;
    co_await group.WaitForCompletion();
  }
  // Children that return normally when cancelled (Task<void>) do not say the wait was.
  const bool waiter_cancelled = co_await CheckCancelled();
  if (failure.ok() && !*exception && waiter_cancelled) {
    failure = absl::CancelledError("Gather cancelled");
  }
  co_return failure;
}

Task<void> WaitAll(ChildGroup& group) {
  for (;;) {
    while (group.NextCompleted() != nullptr) {
      // Results are read from the children afterwards; only the count matters here.
    }
    if (group.running() == 0) break;
    co_await group.WaitForCompletion();
  }
}

}  // namespace corio::tasks_internal
