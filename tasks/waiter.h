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

// A node of a circular doubly-linked list; a WaitList is its sentinel. Unlinking needs no
// pointer to the list, which keeps waiters (one in nearly every suspended task) at 40 bytes.
struct WaitLink {
  WaitLink* prev = nullptr;  // nullptr: not linked
  WaitLink* next = nullptr;
  void Unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

class WaitList;

struct Waiter : WaitLink {
  Waiter() = default;
  // `owner`: the primitive, for awaiters that need it only until they suspend (its storage is
  // then reused for the handle).
  explicit Waiter(void* owner_until_suspended) : slot(owner_until_suspended) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  bool linked() const { return prev != nullptr; }
  // Suspends the task of `h` on `list` unless it is already cancelled (then code = kCancelled
  // and it does not suspend). Returns whether it suspended.
  template <typename P>
  bool Suspend(WaitList& list, std::coroutine_handle<P> h);
  // Resumes the waiter on a later turn with `c`. Precondition: linked.
  void Wake(WakeCode c);

  // The task was cancelled while waiting: leave the list, resume with kCancelled. Called by
  // RequestCancel (spawn.cc) for tagged waiters.
  void OnCancel() {
    if (linked()) Wake(WakeCode::kCancelled);
  }
  bool suspended() const { return suspended_; }

  std::coroutine_handle<> handle() const { return std::coroutine_handle<>::from_address(slot); }
  void* owner() const { return slot; }

  // Until Suspend(): the owning primitive (if given); from Suspend(): the coroutine frame.
  void* slot = nullptr;
  PromiseBase* root = nullptr;
  WakeCode code = WakeCode::kNone;
  bool suspended_ = false;
};

class WaitList {
 public:
  WaitList() { head_.prev = head_.next = &head_; }
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  // A primitive destroyed while tasks wait on it wakes them with kCancelled.
  ~WaitList() {
    while (Waiter* w = front()) w->Wake(WakeCode::kCancelled);
  }

  bool empty() const { return head_.next == &head_; }
  // O(n): for introspection and tests.
  size_t size() const {
    size_t n = 0;
    for (const WaitLink* l = head_.next; l != &head_; l = l->next) ++n;
    return n;
  }
  Waiter* front() const { return empty() ? nullptr : static_cast<Waiter*>(head_.next); }

  void PushBack(Waiter* w) {
    WaitLink* last = head_.prev;
    w->prev = last;
    w->next = &head_;
    last->next = w;
    head_.prev = w;
  }

 private:
  WaitLink head_;
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
  slot = h.address();
  suspended_ = true;
  code = WakeCode::kNone;
  wait_list.PushBack(this);
  Arm(root, TagWaiter(this));
  return true;
}

inline void Waiter::Wake(WakeCode c) {
  Unlink();
  Disarm(root, TagWaiter(this));
  code = c;
  EventLoop::Current()->CallSoon(handle());
}

inline Waiter::~Waiter() {
  if (linked()) Unlink();
  Disarm(root, TagWaiter(this));
}

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_WAITER_H_
