// WithTimeout / WithDeadline: bound how long a task may run. On expiry the task is cancelled,
// waited for, and the result is DeadlineExceededError (asyncio.wait_for / asyncio.timeout).
//
//   absl::StatusOr<Page> page = co_await corio::WithTimeout(absl::Seconds(5), Fetch(url));
//
// Completion contract: the task starts on the next loop turn, in its own cancellation scope;
// WithTimeout resumes once, on the loop's thread, after the task finished: with its result,
// or DEADLINE_EXCEEDED if the deadline passed and the task did not succeed by the time it
// stopped (a task that still succeeds while being cancelled keeps its result). Cancelling the
// awaiting task cancels the inner one too; the result is then the inner task's (CANCELLED).
// An exception the task throws is rethrown.
// Threading: on a thread running an EventLoop.
#ifndef CORIO_TASKS_WITH_TIMEOUT_H_
#define CORIO_TASKS_WITH_TIMEOUT_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/child_group.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {

namespace tasks_internal {

// The deadline of one WithTimeout: cancels the group's children when it passes. RAII: the
// timer is cancelled when this goes away, on every path (also when the frame holding it is
// destroyed while suspended), so it never fires into a dead frame.
class DeadlineTimer {
 public:
  DeadlineTimer(EventLoop& loop, absl::Time deadline, ChildGroup& group)
      : group_(group), timer_(loop.CallAt(deadline, Fire{this})) {}
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;
  ~DeadlineTimer() { timer_.Cancel(); }
  void Cancel() { timer_.Cancel(); }
  bool expired() const { return expired_; }

 private:
  struct Fire {
    DeadlineTimer* self;
    void operator()() const {
      self->expired_ = true;
      self->group_.CancelAll();
    }
  };
  ChildGroup& group_;
  bool expired_ = false;
  TimerHandle timer_;
};

// `timeout` (if positive) only words the error: "timed out after 5s".
template <typename T>
Task<ResultOfT<T>> RunWithDeadline(absl::Time deadline, Task<T> task, absl::Duration timeout) {
  ChildGroup group;
  auto child = group.Add(std::move(task));
  DeadlineTimer timer(*EventLoop::Current(), deadline, group);
  while (group.running() > 0) co_await group.WaitForCompletion();
  timer.Cancel();
  Promise<T>& p = child.promise();
  if (timer.expired() && !p.exception && !OutcomeOf(p).ok()) {
    co_return absl::DeadlineExceededError(
        timeout > absl::ZeroDuration()
            ? absl::StrCat("timed out after ", absl::FormatDuration(timeout))
            : std::string("deadline exceeded"));
  }
  co_return TakeResult(p);
}

}  // namespace tasks_internal

template <typename T>
Task<ResultOfT<T>> WithDeadline(absl::Time deadline, Task<T> task) {
  return tasks_internal::RunWithDeadline(deadline, std::move(task), absl::ZeroDuration());
}

// The deadline is now + timeout, read from the current loop's clock.
template <typename T>
Task<ResultOfT<T>> WithTimeout(absl::Duration timeout, Task<T> task) {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr, "corio::WithTimeout: no event loop is running on this thread");
  return tasks_internal::RunWithDeadline(loop->Now() + timeout, std::move(task), timeout);
}

}  // namespace corio

#endif  // CORIO_TASKS_WITH_TIMEOUT_H_
