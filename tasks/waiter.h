// Waiter / WaitList: the intrusive FIFO of suspended tasks behind every sync primitive (Event,
// Mutex, Semaphore, Condition, Queue). Internal to //tasks.
//
// A Waiter lives in the awaiter, in the suspended task's frame: waiting allocates nothing.
// Wake() unlinks it, disarms its cancellation and schedules its resumption on the loop (never
// inline); a cancel unlinks it and schedules it with WakeCode::kCancelled; destroying a
// Waiter that is still linked (its frame was destroyed) unlinks it.
#ifndef CORIO_TASKS_WAITER_H_
#define CORIO_TASKS_WAITER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "base/check.h"
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio::tasks_internal {

enum class WakeCode : uint8_t { kNone, kOk, kCancelled, kClosed };

class WaitList;

struct Waiter : CancelHandler {
  explicit Waiter(void (*on_cancel)(CancelHandler*) = &DefaultOnCancel)
      : CancelHandler{on_cancel} {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  // Suspends the task of `h` on `list` unless it is already cancelled (then code = kCancelled
  // and it does not suspend). Returns whether it suspended.
  template <typename P>
  bool Suspend(WaitList& list, std::coroutine_handle<P> h);
  // Resumes the waiter on a later turn with `c`. Precondition: linked.
  void Wake(WakeCode c);

  static void DefaultOnCancel(CancelHandler* self);

  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  WaitList* list = nullptr;  // the list it is linked on, or nullptr
  std::coroutine_handle<> handle;
  PromiseBase* root = nullptr;
  WakeCode code = WakeCode::kNone;
};

class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  // A primitive destroyed while tasks wait on it wakes them with kCancelled.
  ~WaitList() {
    while (Waiter* w = front()) w->Wake(WakeCode::kCancelled);
  }

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  Waiter* front() const { return head_; }

  void PushBack(Waiter* w) {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    w->list = this;
    ++size_;
  }
  void Remove(Waiter* w) {
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
    w->list = nullptr;
    --size_;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  size_t size_ = 0;
};

template <typename P>
bool Waiter::Suspend(WaitList& wait_list, std::coroutine_handle<P> h) {
  root = RootOf(h);
  if (IsCancelled(root)) {
    code = WakeCode::kCancelled;
    return false;
  }
  CORIO_CHECK_MSG(EventLoop::Current() != nullptr,
                  "corio: waiting on a primitive needs a running event loop on this thread");
  handle = h;
  code = WakeCode::kNone;
  wait_list.PushBack(this);
  Arm(root, this);
  return true;
}

inline void Waiter::Wake(WakeCode c) {
  list->Remove(this);
  Disarm(root, this);
  code = c;
  EventLoop::Current()->CallSoon(handle);
}

inline void Waiter::DefaultOnCancel(CancelHandler* self) {
  auto* w = static_cast<Waiter*>(self);
  if (w->list != nullptr) w->Wake(WakeCode::kCancelled);
}

inline Waiter::~Waiter() {
  if (list != nullptr) list->Remove(this);
  Disarm(root, this);
}

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_WAITER_H_
