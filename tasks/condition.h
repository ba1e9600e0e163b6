// Condition: wait for a notification while giving up a Mutex (asyncio.Condition).
//
//   corio::Mutex mu;
//   corio::Condition cv(mu);
//   CORIO_CO_ASSIGN_OR_RETURN(corio::MutexLock lock, co_await mu.Lock());
//   CORIO_CO_RETURN_IF_ERROR(co_await cv.WaitFor([&] { return !items.empty(); }));
//   ... items is non-empty and the mutex is held ...
//
// Completion contract: Wait() must be called with the mutex held (checked); it releases it,
// suspends until NotifyOne/NotifyAll (FIFO), then re-acquires it before resuming, on the
// loop's thread. If the task is cancelled while waiting it still re-acquires the mutex (so the
// caller's lock stays valid) and then returns CancelledError.
// Threading: one loop's thread; not thread-safe.
#ifndef CORIO_TASKS_CONDITION_H_
#define CORIO_TASKS_CONDITION_H_

#include <utility>

#include "absl/status/status.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/mutex.h"
#include "tasks/task.h"
#include "tasks/waiter.h"

namespace corio {

class Condition {
 public:
  explicit Condition(Mutex& mu) : mu_(mu) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  Task<absl::Status> Wait();

  template <typename Predicate>
  Task<absl::Status> WaitFor(Predicate pred) {
    while (!pred()) {
      absl::Status s = co_await Wait();
      if (!s.ok()) co_return s;
    }
    co_return absl::OkStatus();
  }

  void NotifyOne() {
    if (tasks_internal::Waiter* w = waiters_.front()) w->Wake(tasks_internal::WakeCode::kOk);
  }
  void NotifyAll() {
    while (tasks_internal::Waiter* w = waiters_.front()) w->Wake(tasks_internal::WakeCode::kOk);
  }
  size_t waiters() const { return waiters_.size(); }

 private:
  class NotifyAwaiter {
   public:
    explicit NotifyAwaiter(Condition& c) : cond_(c) {}
    bool await_ready() const noexcept { return false; }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!waiter_.Suspend(cond_.waiters_, h)) return false;
      cond_.mu_.Unlock();  // last: another task may run as soon as this returns
      return true;
    }
    bool await_resume() const { return waiter_.code() != tasks_internal::WakeCode::kCancelled; }
    bool suspended() const { return waiter_.suspended(); }

   private:
    Condition& cond_;
    tasks_internal::Waiter waiter_;
  };

  Mutex& mu_;
  tasks_internal::WaitList waiters_;
};

}  // namespace corio

#endif  // CORIO_TASKS_CONDITION_H_
