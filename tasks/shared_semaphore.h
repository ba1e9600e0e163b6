// SharedSemaphore: a count of permits shared by tasks on different loops (a LoopGroup's), so a
// limit holds across the group: an HTTP client's `limit` / `limit_per_host` spread over N loops.
// FIFO-fair; each waiter is resumed on its own loop's thread.
//
//   corio::SharedSemaphore slots(64);                     // shared by every loop's tasks
//   CORIO_CO_RETURN_IF_ERROR(co_await slots.Acquire());   // in a task on any loop
//   absl::Cleanup release = [&] { slots.Release(); };     // Release from any thread
//
// Completion contract: Acquire() resumes once, on the acquiring task's own loop thread: with
// OK holding a permit (at once, without suspending, if one is free and nobody queued), or with
// CANCELLED if the task is cancelled while queued (or was already). Release() hands the permit
// to the first queued task (no barging) and posts its resumption to that task's loop. Exactly
// one of the two wins when a cancel races a hand-off: a task cancelled after it was handed a
// permit still returns OK holding it; a task whose frame is destroyed before it resumed gives
// it back; a waiter whose loop was closed or destroyed is skipped and the permit goes to the
// next one. No permit is ever lost or duplicated.
// Threading: every method is thread-safe; Acquire() is awaited from a task on any loop.
// Ownership: the semaphore must outlive its waiters: destroying it while tasks wait is a bug
// (checked). It holds no references to loops other than its waiters'.
// Errors: only CANCELLED, as above.
#ifndef CORIO_TASKS_SHARED_SEMAPHORE_H_
#define CORIO_TASKS_SHARED_SEMAPHORE_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/shared_waiter.h"
#include "tasks/task.h"

namespace corio {

class SharedSemaphore {
 public:
  explicit SharedSemaphore(int64_t permits) : permits_(permits) {}
  SharedSemaphore(const SharedSemaphore&) = delete;
  SharedSemaphore& operator=(const SharedSemaphore&) = delete;
  ~SharedSemaphore();

  // Takes a permit if one is free and nobody is queued.
  bool TryAcquire();
  // Gives a permit back: to the first queued task, else to the pool.
  void Release();
  int64_t available() const;
  size_t waiters() const;

  class [[nodiscard]] Awaiter : tasks_internal::SharedWaiter {
   public:
    explicit Awaiter(SharedSemaphore& s) : SharedWaiter(&OnCancel), sem_(s) {}
    ~Awaiter();
    bool await_ready() {
      got_ = sem_.TryAcquire();
      return got_;
    }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      root = tasks_internal::RootOf(h);
      if (tasks_internal::IsCancelled(root)) {
        state = State::kCancelled;
        return false;
      }
      Prepare(h);
      if (!sem_.Enqueue(this)) {
        got_ = true;  // a permit came free meanwhile
        return false;
      }
      enqueued_ = true;
      tasks_internal::Arm(root, this);
      return true;
    }
    absl::Status await_resume();

   private:
    static void OnCancel(tasks_internal::CancelHandler* self);
    SharedSemaphore& sem_;
    bool got_ = false;       // took a permit without queuing
    bool enqueued_ = false;  // was queued (state is then shared with other threads)
    bool taken_ = false;     // the permit is the caller's now
  };

  Awaiter Acquire() { return Awaiter(*this); }

 private:
  // Queues `w`, or returns false having taken a permit for it.
  bool Enqueue(tasks_internal::SharedWaiter* w);
  void ReleaseLocked();

  mutable std::mutex mu_;
  int64_t permits_;                         // guarded by mu_
  tasks_internal::SharedWaitList waiters_;  // guarded by mu_
};

}  // namespace corio

#endif  // CORIO_TASKS_SHARED_SEMAPHORE_H_
