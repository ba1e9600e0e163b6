// Mutex: mutual exclusion between tasks of one loop (asyncio.Lock), FIFO-fair, with a scoped
// guard.
//
//   corio::Mutex mu;
//   CORIO_CO_ASSIGN_OR_RETURN(corio::MutexLock lock, co_await mu.Lock());
//   ... critical section, may co_await ...
//   // lock released when `lock` goes out of scope (or lock.Unlock())
//
// Completion contract: Lock() resumes once, on the loop's thread, with a MutexLock that owns
// the mutex (at once if it was free and nobody queued), or with CancelledError if the task is
// cancelled while queued (or was already). Unlock() hands the mutex to the first queued task
// (no barging): a task cancelled after it was handed the mutex still gets it, and a task
// destroyed while holding a hand-off releases it.
// Threading: one loop's thread; not thread-safe.
// Ownership: destroying a Mutex with queued tasks wakes them with CancelledError.
#ifndef CORIO_TASKS_MUTEX_H_
#define CORIO_TASKS_MUTEX_H_

#include <coroutine>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/waiter.h"

namespace corio {

class Mutex;

// Owns a locked Mutex; unlocks it on destruction. Move-only.
class [[nodiscard]] MutexLock {
 public:
  MutexLock() = default;
  explicit MutexLock(Mutex* mu) : mu_(mu) {}
  MutexLock(MutexLock&& other) noexcept : mu_(std::exchange(other.mu_, nullptr)) {}
  MutexLock& operator=(MutexLock&& other) noexcept {
    if (this != &other) {
      Unlock();
      mu_ = std::exchange(other.mu_, nullptr);
    }
    return *this;
  }
  ~MutexLock() { Unlock(); }
  void Unlock();
  // Gives up ownership without unlocking (like std::unique_lock::release).
  Mutex* Release() { return std::exchange(mu_, nullptr); }
  bool owns_lock() const { return mu_ != nullptr; }

 private:
  Mutex* mu_ = nullptr;
};

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  bool is_locked() const { return locked_; }
  bool TryLock() {
    if (locked_ || !waiters_.empty()) return false;
    locked_ = true;
    return true;
  }
  // Precondition: locked (checked).
  void Unlock();

  class [[nodiscard]] LockAwaiter {
   public:
    LockAwaiter(Mutex& mu, bool cancellable) : mu_(mu), cancellable_(cancellable) {}
    ~LockAwaiter() {
      // Handed the mutex but destroyed before resuming: give it back.
      if (waiter_.code() == tasks_internal::WakeCode::kOk && !taken_) mu_.Unlock();
    }
    bool await_ready() { return mu_.TryLock(); }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!cancellable_) {
        // Condition::Wait re-acquiring: not a cancellation point.
        return waiter_.Suspend(mu_.waiters_, std::coroutine_handle<>(h));
      }
      return waiter_.Suspend(mu_.waiters_, h);
    }
    absl::StatusOr<MutexLock> await_resume() {
      if (waiter_.code() == tasks_internal::WakeCode::kCancelled) {
        return absl::CancelledError("Mutex lock cancelled");
      }
      taken_ = true;
      return MutexLock(&mu_);
    }

   private:
    Mutex& mu_;
    const bool cancellable_;
    bool taken_ = false;
    tasks_internal::Waiter waiter_;
  };

  LockAwaiter Lock() { return LockAwaiter(*this, /*cancellable=*/true); }
  // For Condition::Wait: waits for the mutex even if the task is cancelled.
  LockAwaiter LockIgnoringCancellation() { return LockAwaiter(*this, /*cancellable=*/false); }

 private:
  bool locked_ = false;
  tasks_internal::WaitList waiters_;
};

inline void Mutex::Unlock() {
  CORIO_CHECK_MSG(locked_, "corio::Mutex::Unlock of an unlocked mutex");
  if (tasks_internal::Waiter* w = waiters_.front()) {
    w->Wake(tasks_internal::WakeCode::kOk);  // stays locked: ownership passes to w
  } else {
    locked_ = false;
  }
}

inline void MutexLock::Unlock() {
  if (mu_ != nullptr) std::exchange(mu_, nullptr)->Unlock();
}

}  // namespace corio

#endif  // CORIO_TASKS_MUTEX_H_
