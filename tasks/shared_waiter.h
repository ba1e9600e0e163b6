// SharedWaiter / SharedWaitList: the FIFO of suspended tasks behind the cross-loop primitives
// (SharedSemaphore, SharedQueue). Internal to //tasks.
//
// Unlike the one-loop Waiter, the list is guarded by the primitive's mutex and a waiter may be
// granted (handed a permit or an item) from any thread. A waiter records its own loop when it
// suspends, and Grant() posts its resumption there: a task is only ever resumed on its own
// loop's thread. If that loop refuses the post (it was closed or destroyed), the waiter is
// orphaned, and the primitive passes what it was handed to the next waiter.
#ifndef CORIO_TASKS_SHARED_WAITER_H_
#define CORIO_TASKS_SHARED_WAITER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio::tasks_internal {

struct SharedWaiter : CancelHandler {
  enum class State : uint8_t {
    kIdle,       // not waiting (yet)
    kQueued,     // in the list
    kGranted,    // handed what it waited for; its resumption is posted
    kCancelled,  // left the list because its task was cancelled
    kClosed,     // woken by Close()
    kOrphaned,   // its loop refused the resumption: it will never resume
  };

  explicit SharedWaiter(void (*on_cancel)(CancelHandler*)) : CancelHandler{on_cancel} {}
  SharedWaiter(const SharedWaiter&) = delete;
  SharedWaiter& operator=(const SharedWaiter&) = delete;

  // Records the suspending task and its loop (the calling thread's running loop: checked).
  template <typename P>
  void Prepare(std::coroutine_handle<P> h) {
    EventLoop* current = EventLoop::Current();
    CORIO_CHECK_MSG(current != nullptr,
                    "corio: waiting on a shared primitive needs a running event loop");
    handle = h;
    loop = current->handle();
  }

  // Under the primitive's mutex, once unlinked: marks it `s` and posts its resumption to its
  // loop. Returns false (state kOrphaned) if that loop refused it.
  bool Grant(State s) {
    state = s;
    if (loop.Post(handle)) return true;
    state = State::kOrphaned;
    return false;
  }

  SharedWaiter* prev = nullptr;
  SharedWaiter* next = nullptr;
  std::coroutine_handle<> handle;
  LoopHandle loop;
  PromiseBase* root = nullptr;
  State state = State::kIdle;  // guarded by the primitive's mutex once queued
};

// Intrusive FIFO; the owner guards it with its mutex.
class SharedWaitList {
 public:
  SharedWaitList() = default;
  SharedWaitList(const SharedWaitList&) = delete;
  SharedWaitList& operator=(const SharedWaitList&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  SharedWaiter* front() const { return head_; }

  void PushBack(SharedWaiter* w) {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    ++size_;
  }
  void Remove(SharedWaiter* w) {
    if (w->prev != nullptr) {
      w->prev->next = w->next;
    } else {
      head_ = w->next;
    }
    if (w->next != nullptr) {
      w->next->prev = w->prev;
    } else {
      tail_ = w->prev;
    }
    w->prev = w->next = nullptr;
    --size_;
  }

 private:
  SharedWaiter* head_ = nullptr;
  SharedWaiter* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_SHARED_WAITER_H_
