// Sleep, SleepUntil, Yield: suspension points in time.
//
//   CORIO_CO_RETURN_IF_ERROR(co_await corio::Sleep(absl::Milliseconds(100)));
//   absl::Status s = co_await corio::SleepUntil(deadline);
//   co_await corio::Yield();   // let every other ready task run first (asyncio.sleep(0))
//
// Completion contract: resumes exactly once on the loop's thread: with OK at or after the
// deadline (never before; see EventLoop::Options::timer_slack), or with CancelledError as
// soon as the task is cancelled (also if it was cancelled before it got here). Never
// completes inline: even Sleep(0) and a past deadline wait for a later loop turn. Yield
// always resumes on the next turn; its status reports a cancellation that happened meanwhile.
// Threading: on a thread running an EventLoop (checked).
// Ownership: destroying a suspended task's frame cancels its timer.
#ifndef CORIO_TASKS_SLEEP_H_
#define CORIO_TASKS_SLEEP_H_

#include <coroutine>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio {

class [[nodiscard]] SleepAwaiter : tasks_internal::CancelHandler {
 public:
  explicit SleepAwaiter(absl::Time deadline) : CancelHandler{&OnCancel}, deadline_(deadline) {}
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() { timer_.Cancel(); }

  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) {
    root_ = tasks_internal::RootOf(h);
    if (tasks_internal::IsCancelled(root_)) {
      status_ = absl::CancelledError("sleep cancelled");
      return false;
    }
    loop_ = EventLoop::Current();
    CORIO_CHECK_MSG(loop_ != nullptr, "corio::Sleep: no event loop is running on this thread");
    h_ = h;
    timer_ = loop_->CallAt(deadline_, [this] {
      tasks_internal::Disarm(root_, this);
      ResumeCoroutine(h_);
    });
    tasks_internal::Arm(root_, this);
    return true;
  }
  absl::Status await_resume() noexcept { return status_; }

 private:
  static void OnCancel(tasks_internal::CancelHandler* self) {
    auto* s = static_cast<SleepAwaiter*>(self);
    s->timer_.Cancel();
    s->status_ = absl::CancelledError("sleep cancelled");
    s->loop_->CallSoon(s->h_);
  }

  absl::Time deadline_;
  absl::Status status_;
  tasks_internal::PromiseBase* root_ = nullptr;
  EventLoop* loop_ = nullptr;
  std::coroutine_handle<> h_;
  TimerHandle timer_;
};

// Deadlines are computed when called, from the current loop's clock.
SleepAwaiter Sleep(absl::Duration d);
SleepAwaiter SleepUntil(absl::Time deadline);

class [[nodiscard]] YieldAwaiter {
 public:
  bool await_ready() const noexcept { return false; }
  template <typename P>
  void await_suspend(std::coroutine_handle<P> h) {
    root_ = tasks_internal::RootOf(h);
    EventLoop* loop = EventLoop::Current();
    CORIO_CHECK_MSG(loop != nullptr, "corio::Yield: no event loop is running on this thread");
    loop->CallSoon(std::coroutine_handle<>(h));
  }
  absl::Status await_resume() const noexcept {
    return tasks_internal::IsCancelled(root_) ? absl::CancelledError("task cancelled")
                                              : absl::OkStatus();
  }

 private:
  tasks_internal::PromiseBase* root_ = nullptr;
};

inline YieldAwaiter Yield() { return {}; }

}  // namespace corio

#endif  // CORIO_TASKS_SLEEP_H_
