// Event: a flag tasks can wait for (asyncio.Event).
//
//   corio::Event ready;
//   ... in one task:   ready.Set();
//   ... in others:     CORIO_CO_RETURN_IF_ERROR(co_await ready.Wait());
//
// Completion contract: Wait() resumes once, on the loop's thread: with OK when the event is
// set (at once, without suspending, if it already is), in FIFO order on a later turn; or with
// CancelledError if the waiting task is cancelled (or was already). Set() wakes every waiter.
// Threading: one loop's thread; not thread-safe (use EventLoop::CallSoonThreadSafe to set it
// from elsewhere).
// Ownership: destroying an Event that tasks still wait on wakes them with CancelledError.
#ifndef CORIO_TASKS_EVENT_H_
#define CORIO_TASKS_EVENT_H_

#include <coroutine>

#include "absl/status/status.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/waiter.h"

namespace corio {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void Set();
  void Clear() { set_ = false; }
  bool is_set() const { return set_; }
  size_t waiters() const { return waiters_.size(); }

  // Holds nothing but its Waiter (the Event pointer lives in it until suspension): an idle
  // task waiting on an Event is as small as corio can make it.
  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(Event& e) : waiter_(&e) {}
    bool await_ready() const noexcept { return event()->set_; }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return waiter_.Suspend(event()->waiters_, h);
    }
    absl::Status await_resume() const {
      if (waiter_.code() == tasks_internal::WakeCode::kCancelled) {
        return absl::CancelledError("Event wait cancelled");
      }
      return absl::OkStatus();
    }

   private:
    Event* event() const { return static_cast<Event*>(waiter_.owner()); }
    tasks_internal::Waiter waiter_;
  };

  Awaiter Wait() { return Awaiter(*this); }

 private:
  bool set_ = false;
  tasks_internal::WaitList waiters_;
};

inline void Event::Set() {
  set_ = true;
  while (tasks_internal::Waiter* w = waiters_.front()) w->Wake(tasks_internal::WakeCode::kOk);
}

}  // namespace corio

#endif  // CORIO_TASKS_EVENT_H_
