// Waiter / WaitList: the intrusive FIFO of suspended tasks behind every sync primitive (Event,
// Mutex, Semaphore, Condition, Queue). Internal to //tasks.
//
// A Waiter lives in the awaiter, in the suspended task's frame: waiting allocates nothing.
// Wake() unlinks it, disarms its cancellation and schedules its resumption on the waiting
// task's own loop (recorded when it suspended), never inline, whether that loop is running or
// not and whichever loop (if any) runs on the calling thread; a cancel unlinks it and
// schedules it with WakeCode::kCancelled; destroying a Waiter that is still linked (its frame
// was destroyed) unlinks it.
#ifndef CORIO_TASKS_WAITER_H_
#define CORIO_TASKS_WAITER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
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
  // and it does not suspend). Returns whether it suspended. Needs a running loop (checked).
  template <typename P>
  bool Suspend(WaitList& list, std::coroutine_handle<P> h);
  // Resumes the waiter on a later turn of its loop with `c`. Precondition: linked.
  void Wake(WakeCode c);

  // The task was cancelled while waiting: leave the list, resume with kCancelled. Called by
  // RequestCancel for tagged waiters.
  void OnCancel() {
    if (linked()) Wake(WakeCode::kCancelled);
  }
  static void CancelTagged(void* waiter) { static_cast<Waiter*>(waiter)->OnCancel(); }

  bool suspended() const { return (bits_ & kSuspendedBit) != 0; }
  WakeCode code() const { return static_cast<WakeCode>(bits_ & kCodeMask); }
  void set_code(WakeCode c) { bits_ = (bits_ & ~kCodeMask) | static_cast<uintptr_t>(c); }
  PromiseBase* root() const { return reinterpret_cast<PromiseBase*>(bits_ & ~kLowBits); }
  EventLoop* loop() const { return loop_; }

  std::coroutine_handle<> handle() const { return std::coroutine_handle<>::from_address(slot); }
  void* owner() const { return slot; }

  // Until Suspend(): the owning primitive (if given); from Suspend(): the coroutine frame.
  void* slot = nullptr;

 private:
  // The root, with the wake code and the suspended flag in its low bits (a PromiseBase is
  // 8-aligned): a waiter is in nearly every idle task, and this keeps it at 40 bytes.
  static constexpr uintptr_t kCodeMask = 3;
  static constexpr uintptr_t kSuspendedBit = 4;
  static constexpr uintptr_t kLowBits = 7;
  static_assert(alignof(PromiseBase) >= 8);
  static_assert(static_cast<uintptr_t>(WakeCode::kClosed) <= kCodeMask);

  uintptr_t bits_ = 0;
  EventLoop* loop_ = nullptr;  // where the waiting task runs, and so where it is resumed
};
static_assert(sizeof(Waiter) == 40);

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
  PromiseBase* const r = RootOf(h);
  if (IsCancelled(r)) {
    bits_ = reinterpret_cast<uintptr_t>(r) | static_cast<uintptr_t>(WakeCode::kCancelled);
    return false;
  }
  loop_ = EventLoop::Current();
  CORIO_CHECK_MSG(loop_ != nullptr,
                  "corio: waiting on a primitive needs a running event loop on this thread");
  InstallCancelWaiter(&Waiter::CancelTagged);
  slot = h.address();
  bits_ = reinterpret_cast<uintptr_t>(r) | kSuspendedBit | static_cast<uintptr_t>(WakeCode::kNone);
  wait_list.PushBack(this);
  Arm(r, TagWaiter(this));
  return true;
}

inline void Waiter::Wake(WakeCode c) {
  Unlink();
  Disarm(root(), TagWaiter(this));
  set_code(c);
  loop_->CallSoon(handle());
}

inline Waiter::~Waiter() {
  if (linked()) Unlink();
  Disarm(root(), TagWaiter(this));
}

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_WAITER_H_
