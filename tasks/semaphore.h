// Semaphore / BoundedSemaphore: a count of permits tasks acquire and release
// (asyncio.Semaphore / BoundedSemaphore), FIFO-fair. Bounds concurrency:
//
//   corio::Semaphore slots(64);
//   CORIO_CO_RETURN_IF_ERROR(co_await slots.Acquire());
//   absl::Cleanup release = [&] { slots.Release(); };
//
// Completion contract: Acquire() resumes once, on the loop's thread, with OK holding a permit
// (at once if one is free and nobody queued), or CancelledError if the task is cancelled while
// queued (or was already). Release() hands the permit to the first queued task (no barging); a
// task cancelled after the hand-off still holds the permit, and one destroyed before resuming
// gives it back.
// Threading: one loop's thread; not thread-safe.
// Errors: BoundedSemaphore::Release beyond the initial count is FAILED_PRECONDITION (a bug
// in the caller: more releases than acquires).
#ifndef CORIO_TASKS_SEMAPHORE_H_
#define CORIO_TASKS_SEMAPHORE_H_

#include <coroutine>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/waiter.h"

namespace corio {

class Semaphore {
 public:
  explicit Semaphore(int64_t permits) : permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  int64_t available() const { return permits_; }
  size_t waiters() const { return waiters_.size(); }

  bool TryAcquire() {
    if (permits_ <= 0 || !waiters_.empty()) return false;
    --permits_;
    return true;
  }
  void Release() {
    if (tasks_internal::Waiter* w = waiters_.front()) {
      w->Wake(tasks_internal::WakeCode::kOk);  // the permit passes to w
    } else {
      ++permits_;
    }
  }

  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(Semaphore& s) : sem_(s) {}
    ~Awaiter() {
      if (waiter_.code() == tasks_internal::WakeCode::kOk && !taken_) sem_.Release();
    }
    bool await_ready() { return sem_.TryAcquire(); }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return waiter_.Suspend(sem_.waiters_, h);
    }
    absl::Status await_resume() {
      if (waiter_.code() == tasks_internal::WakeCode::kCancelled) {
        return absl::CancelledError("Semaphore acquire cancelled");
      }
      taken_ = true;
      return absl::OkStatus();
    }

   private:
    Semaphore& sem_;
    bool taken_ = false;
    tasks_internal::Waiter waiter_;
  };

  Awaiter Acquire() { return Awaiter(*this); }

 private:
  int64_t permits_;
  tasks_internal::WaitList waiters_;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(int64_t permits) : Semaphore(permits), bound_(permits) {}
  absl::Status Release() {
    if (available() >= bound_) {
      return absl::FailedPreconditionError(
          absl::StrCat("BoundedSemaphore released more than its ", bound_, " permits"));
    }
    Semaphore::Release();
    return absl::OkStatus();
  }

 private:
  const int64_t bound_;
};

}  // namespace corio

#endif  // CORIO_TASKS_SEMAPHORE_H_
