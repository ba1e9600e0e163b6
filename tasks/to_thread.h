// ToThread: run blocking work (a syscall without an async form, CPU-heavy parsing, a
// blocking library) on a thread pool and await its result (asyncio.to_thread).
//
//   auto read = [path] { return ReadAll(path); };   // name it: see the GCC 12 note in task.h
//   absl::StatusOr<std::string> text = co_await corio::ToThread(std::move(read));
//
// Completion contract: `fn` runs on a pool thread (ThreadPool::Default() unless given); the
// awaiting task resumes once, on its loop's thread, with ResultOfT<R> of fn's result R (an
// exception fn throws is rethrown). If the task is cancelled meanwhile it resumes at once
// with CANCELLED; the blocking call cannot be interrupted, so it runs to completion on its
// thread and its result is dropped (as with asyncio).
// Threading: await on a thread running an EventLoop; `fn` runs on another thread and must
// not touch the loop's objects.
// Ownership: `fn` is moved to the pool. Until it has run and its result is posted back, the
// job holds the loop's pending work (a WorkGuard), so LoopGroup::Shutdown(kDrain) waits for it
// and the task resumes. A loop destroyed (or closed) while the job still runs is safe: the
// late result is dropped.
#ifndef CORIO_TASKS_TO_THREAD_H_
#define CORIO_TASKS_TO_THREAD_H_

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "loop/resume.h"
#include "tasks/task.h"
#include "tasks/thread_pool.h"

namespace corio {

template <typename F>
class [[nodiscard]] ToThreadAwaiter : tasks_internal::CancelHandler {
  using R = std::invoke_result_t<F&>;
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

 public:
  ToThreadAwaiter(F fn, ThreadPool& pool)
      : CancelHandler{&OnCancel}, fn_(std::move(fn)), pool_(pool) {}
  ToThreadAwaiter(const ToThreadAwaiter&) = delete;
  ToThreadAwaiter& operator=(const ToThreadAwaiter&) = delete;
  ~ToThreadAwaiter() {
    if (state_) state_->abandoned = true;  // the frame went away before the result came
    tasks_internal::Disarm(root_, this);
  }

  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) {
    root_ = tasks_internal::RootOf(h);
    if (tasks_internal::IsCancelled(root_)) {
      cancelled_ = true;
      return false;
    }
    EventLoop* loop = EventLoop::Current();
    CORIO_CHECK_MSG(loop != nullptr, "corio::ToThread: no event loop is running on this thread");
    loop_ = loop;
    state_ = std::make_shared<State>();
    state_->handle = h;
    LoopHandle home = loop->handle();
    pool_.Submit([state = state_, home, guard = home.HoldWork(), fn = std::move(fn_)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          state->value.emplace();
        } else {
          state->value.emplace(fn());
        }
      } catch (...) {
        state->exception = std::current_exception();
      }
      // A loop that is gone refuses the post: the result is dropped with `state`.
      (void)home.Post([state] {
        if (state->abandoned) return;
        ResumeCoroutine(state->handle);
      });
      guard.Release();  // after the post: a drain sees the result queued before the count drops
    });
    tasks_internal::Arm(root_, this);
    return true;
  }

  ResultOfT<R> await_resume() {
    tasks_internal::Disarm(root_, this);
    if (cancelled_) return absl::CancelledError("ToThread cancelled (the blocking call continues)");
    std::shared_ptr<State> state = std::move(state_);
    if (state->exception) std::rethrow_exception(state->exception);
    if constexpr (std::is_void_v<R>) {
      return absl::OkStatus();
    } else {
      return ResultOfT<R>(std::move(*state->value));
    }
  }

 private:
  // Written by the pool thread before it posts to the loop; read on the loop thread after
  // (the loop's cross-thread queue orders the two).
  struct State {
    std::optional<Stored> value;
    std::exception_ptr exception;
    std::coroutine_handle<> handle;
    bool abandoned = false;  // loop thread only
  };

  static void OnCancel(tasks_internal::CancelHandler* self) {
    auto* a = static_cast<ToThreadAwaiter*>(self);
    a->cancelled_ = true;
    a->state_->abandoned = true;
    a->loop_->CallSoon(a->state_->handle);
  }

  F fn_;
  ThreadPool& pool_;
  tasks_internal::PromiseBase* root_ = nullptr;
  EventLoop* loop_ = nullptr;
  std::shared_ptr<State> state_;
  bool cancelled_ = false;
};

template <typename F>
ToThreadAwaiter<std::decay_t<F>> ToThread(F&& fn, ThreadPool& pool = ThreadPool::Default()) {
  return ToThreadAwaiter<std::decay_t<F>>(std::forward<F>(fn), pool);
}

}  // namespace corio

#endif  // CORIO_TASKS_TO_THREAD_H_
