// SharedQueue<T>: a bounded FIFO channel between tasks on different loops (a LoopGroup's), with
// close/drain semantics like corio::Queue. Each waiter is resumed on its own loop's thread.
//
//   corio::SharedQueue<Job> jobs(/*capacity=*/100);        // 0: unbounded
//   CORIO_CO_RETURN_IF_ERROR(co_await jobs.Put(job));       // producer, on any loop
//   absl::StatusOr<Job> next = co_await jobs.Get();         // consumer, on any loop
//   jobs.Close();  // producers are done: consumers drain what is left, then get OUT_OF_RANGE
//
// Completion contract: Put/Get resume once, on the awaiting task's own loop thread; at once
// (without suspending) when they can proceed and nobody is queued ahead of them, else in FIFO
// order when another thread makes room or hands an item over. An item goes straight to a
// waiting getter, and a waiting putter's item straight into the queue, under the queue's lock:
// a getter cancelled after it was handed an item still returns it; a getter whose frame is
// destroyed before resuming (or whose loop was closed) passes its item on to the next getter,
// or back to the head of the queue. No item is lost or duplicated by a cancellation. Put's
// item is in the queue iff Put returns OK.
// Errors: Put on a closed queue: FAILED_PRECONDITION. Get on a closed, empty queue:
// OUT_OF_RANGE (end of stream). Either on a cancelled task: CANCELLED. TryPut on a full queue:
// RESOURCE_EXHAUSTED; TryGet on an empty open queue: UNAVAILABLE.
// Threading: every method is thread-safe; Put/Get are awaited from tasks on any loop.
// Ownership: the queue owns queued items; it must outlive its waiters (destroying it while
// tasks wait is a bug, checked).
#ifndef CORIO_TASKS_SHARED_QUEUE_H_
#define CORIO_TASKS_SHARED_QUEUE_H_

#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/shared_waiter.h"
#include "tasks/task.h"

namespace corio {

template <typename T>
class SharedQueue {
  using SharedWaiter = tasks_internal::SharedWaiter;
  using State = SharedWaiter::State;

 public:
  explicit SharedQueue(size_t capacity = 0) : capacity_(capacity) {}
  SharedQueue(const SharedQueue&) = delete;
  SharedQueue& operator=(const SharedQueue&) = delete;
  ~SharedQueue() {
    std::lock_guard<std::mutex> lock(mu_);
    CORIO_CHECK_MSG(getters_.empty() && putters_.empty(),
                    "SharedQueue destroyed while tasks wait on it");
  }

  size_t capacity() const { return capacity_; }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  absl::Status TryPut(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    return PutLocked(item);
  }
  absl::StatusOr<T> TryGet() {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.empty()) {
      if (closed_) return absl::OutOfRangeError("queue closed");
      return absl::UnavailableError("queue empty");
    }
    return TakeLocked();
  }

  // Stops new puts, wakes queued putters (FAILED_PRECONDITION) and, once the queue is empty,
  // queued getters (OUT_OF_RANGE).
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    while (SharedWaiter* w = putters_.front()) {
      putters_.Remove(w);
      (void)w->Grant(State::kClosed);
    }
    if (items_.empty()) {
      while (SharedWaiter* w = getters_.front()) {
        getters_.Remove(w);
        (void)w->Grant(State::kClosed);
      }
    }
  }

  class [[nodiscard]] PutAwaiter : SharedWaiter {
   public:
    PutAwaiter(SharedQueue& q, T item) : SharedWaiter(&OnCancel), q_(q), item_(std::move(item)) {}
    ~PutAwaiter() {
      if (enqueued_) {
        std::lock_guard<std::mutex> lock(q_.mu_);
        if (state == State::kQueued) q_.putters_.Remove(this);  // the frame went away
      }
      tasks_internal::Disarm(root, this);
    }
    bool await_ready() {
      std::lock_guard<std::mutex> lock(q_.mu_);
      return TryNowLocked();
    }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      root = tasks_internal::RootOf(h);
      if (tasks_internal::IsCancelled(root)) {
        state = State::kCancelled;
        result_ = absl::CancelledError("SharedQueue put cancelled");
        return false;
      }
      Prepare(h);
      {
        std::lock_guard<std::mutex> lock(q_.mu_);
        if (TryNowLocked()) return false;
        state = State::kQueued;
        q_.putters_.PushBack(this);
      }
      enqueued_ = true;
      tasks_internal::Arm(root, this);
      return true;
    }
    absl::Status await_resume() {
      tasks_internal::Disarm(root, this);
      if (!enqueued_) return result_;
      switch (state) {
        case State::kGranted:
          return absl::OkStatus();
        case State::kClosed:
          return absl::FailedPreconditionError("queue closed");
        default:
          return absl::CancelledError("SharedQueue put cancelled");
      }
    }

   private:
    friend class SharedQueue;
    // Puts the item now unless the queue is full (then it stays here).
    bool TryNowLocked() {
      result_ = q_.PutLocked(*item_);
      if (absl::IsResourceExhausted(result_)) return false;
      item_.reset();
      return true;
    }
    static void OnCancel(tasks_internal::CancelHandler* self) {
      auto* a = static_cast<PutAwaiter*>(self);
      {
        std::lock_guard<std::mutex> lock(a->q_.mu_);
        if (a->state != State::kQueued) return;  // admitted or closed: resumption on its way
        a->q_.putters_.Remove(a);
        a->state = State::kCancelled;
      }
      (void)a->loop.Post(a->handle);  // on its own loop thread; never inline
    }

    SharedQueue& q_;
    std::optional<T> item_;  // until it is in the queue
    absl::Status result_;
    bool enqueued_ = false;
  };

  class [[nodiscard]] GetAwaiter : SharedWaiter {
   public:
    explicit GetAwaiter(SharedQueue& q) : SharedWaiter(&OnCancel), q_(q) {}
    ~GetAwaiter() {
      if (enqueued_) {
        std::lock_guard<std::mutex> lock(q_.mu_);
        if (state == State::kQueued) {
          q_.getters_.Remove(this);  // the frame went away while queued
        } else if (state == State::kGranted && item_.has_value() && !taken_) {
          q_.GiveBackLocked(std::move(*item_));  // handed an item, never resumed: pass it on
        }
      }
      tasks_internal::Disarm(root, this);
    }
    bool await_ready() {
      std::lock_guard<std::mutex> lock(q_.mu_);
      return TryNowLocked();
    }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      root = tasks_internal::RootOf(h);
      if (tasks_internal::IsCancelled(root)) {
        state = State::kCancelled;
        return false;
      }
      Prepare(h);
      {
        std::lock_guard<std::mutex> lock(q_.mu_);
        if (TryNowLocked()) return false;
        state = State::kQueued;
        q_.getters_.PushBack(this);
      }
      enqueued_ = true;
      tasks_internal::Arm(root, this);
      return true;
    }
    absl::StatusOr<T> await_resume() {
      tasks_internal::Disarm(root, this);
      if (item_.has_value()) {
        taken_ = true;
        return std::move(*item_);
      }
      if (state == State::kCancelled) return absl::CancelledError("SharedQueue get cancelled");
      return absl::OutOfRangeError("queue closed");
    }

   private:
    friend class SharedQueue;
    // Takes an item now if one is there and nobody is ahead; or sees the end of the stream.
    bool TryNowLocked() {
      if (!q_.items_.empty() && q_.getters_.empty()) {
        item_.emplace(q_.TakeLocked());
        return true;
      }
      return q_.closed_ && q_.items_.empty();
    }
    static void OnCancel(tasks_internal::CancelHandler* self) {
      auto* a = static_cast<GetAwaiter*>(self);
      {
        std::lock_guard<std::mutex> lock(a->q_.mu_);
        if (a->state != State::kQueued) return;  // handed an item (kept) or closed
        a->q_.getters_.Remove(a);
        a->state = State::kCancelled;
      }
      (void)a->loop.Post(a->handle);  // on its own loop thread; never inline
    }

    SharedQueue& q_;
    std::optional<T> item_;  // handed over (under the queue's lock) or taken at once
    bool enqueued_ = false;
    bool taken_ = false;
  };

  PutAwaiter Put(T item) { return PutAwaiter(*this, std::move(item)); }
  GetAwaiter Get() { return GetAwaiter(*this); }

 private:
  bool FullLocked() const { return capacity_ != 0 && items_.size() >= capacity_; }

  // OK: the item was moved in (or handed to a waiting getter). FAILED_PRECONDITION: closed.
  // RESOURCE_EXHAUSTED: full, or putters are queued ahead; the item is left untouched.
  absl::Status PutLocked(T& item) {
    if (closed_) return absl::FailedPreconditionError("queue closed");
    if (HandToGetterLocked(item)) return absl::OkStatus();
    if (FullLocked() || !putters_.empty()) return absl::ResourceExhaustedError("queue full");
    items_.push_back(std::move(item));
    return absl::OkStatus();
  }

  // Hands `item` to the first waiting getter whose loop takes the resumption.
  bool HandToGetterLocked(T& item) {
    while (SharedWaiter* w = getters_.front()) {
      getters_.Remove(w);
      auto* g = static_cast<GetAwaiter*>(w);
      g->item_.emplace(std::move(item));
      if (w->Grant(State::kGranted)) return true;
      item = std::move(*g->item_);  // its loop is gone: take the item back
      g->item_.reset();
    }
    return false;
  }

  // An item handed to a getter that will never take it: to the next getter, else the head.
  void GiveBackLocked(T item) {
    if (HandToGetterLocked(item)) return;
    items_.push_front(std::move(item));
  }

  // Precondition: !items_.empty().
  T TakeLocked() {
    T item = std::move(items_.front());
    items_.pop_front();
    // Room now: the first queued putter's item goes in.
    while (SharedWaiter* w = putters_.front()) {
      if (FullLocked()) break;
      putters_.Remove(w);
      auto* p = static_cast<PutAwaiter*>(w);
      items_.push_back(std::move(*p->item_));
      p->item_.reset();
      if (w->Grant(State::kGranted)) break;
      // Its loop is gone: the item is in anyway; admit the next one too if there is room.
    }
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  bool closed_ = false;                     // guarded by mu_
  std::deque<T> items_;                     // guarded by mu_
  tasks_internal::SharedWaitList getters_;  // guarded by mu_
  tasks_internal::SharedWaitList putters_;  // guarded by mu_
};

}  // namespace corio

#endif  // CORIO_TASKS_SHARED_QUEUE_H_
