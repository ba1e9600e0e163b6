// Queue<T>: a bounded FIFO channel between tasks of one loop (asyncio.Queue), with LIFO and
// priority variants and close/drain semantics.
//
//   corio::Queue<Job> jobs(/*capacity=*/100);          // 0: unbounded
//   CORIO_CO_RETURN_IF_ERROR(co_await jobs.Put(job));    // waits while full
//   absl::StatusOr<Job> next = co_await jobs.Get();      // waits while empty
//   jobs.Close();   // producers are done: getters drain what is left, then get OUT_OF_RANGE
//
// Completion contract: Put/Get resume once, on the loop's thread; at once (no suspension) when
// they can proceed and nobody is queued ahead of them, else in FIFO order on a later turn.
// Items go straight to a waiting getter and a waiting putter's item straight into the queue,
// so a getter cancelled after it was handed an item still returns it, and no item is lost to
// a cancellation. Put's item is in the queue iff Put returns OK.
// Errors: Put on a closed queue: FAILED_PRECONDITION. Get on a closed, empty queue:
// OUT_OF_RANGE (end of stream). Either on a cancelled task: CANCELLED. TryPut on a full queue:
// RESOURCE_EXHAUSTED; TryGet on an empty open queue: UNAVAILABLE.
// Threading: one loop's thread; not thread-safe.
#ifndef CORIO_TASKS_QUEUE_H_
#define CORIO_TASKS_QUEUE_H_

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/waiter.h"

namespace corio {

// Stores: where queued items live and which comes out next.
template <typename T>
class FifoStore {
 public:
  void Push(T v) { items_.push_back(std::move(v)); }
  T Pop() {
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  size_t size() const { return items_.size(); }

 private:
  std::deque<T> items_;
};

template <typename T>
class LifoStore {
 public:
  void Push(T v) { items_.push_back(std::move(v)); }
  T Pop() {
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  size_t size() const { return items_.size(); }

 private:
  std::vector<T> items_;
};

// Smallest first under Compare (std::less: like asyncio.PriorityQueue); FIFO among equals is
// not guaranteed.
template <typename T, typename Compare = std::less<T>>
class PriorityStore {
 public:
  void Push(T v) {
    items_.push_back(std::move(v));
    std::push_heap(items_.begin(), items_.end(), Greater());
  }
  T Pop() {
    std::pop_heap(items_.begin(), items_.end(), Greater());
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  size_t size() const { return items_.size(); }

 private:
  struct Greater {
    bool operator()(const T& a, const T& b) const { return Compare()(b, a); }
  };
  std::vector<T> items_;
};

template <typename T, typename Store = FifoStore<T>>
class BasicQueue {
 public:
  explicit BasicQueue(size_t capacity = 0) : capacity_(capacity) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  size_t size() const { return store_.size(); }
  bool empty() const { return store_.size() == 0; }
  bool full() const { return capacity_ != 0 && store_.size() >= capacity_; }
  bool closed() const { return closed_; }
  size_t capacity() const { return capacity_; }

  absl::Status TryPut(T item) { return PutNow(item); }

  absl::StatusOr<T> TryGet() {
    if (store_.size() == 0) {
      if (closed_) return absl::OutOfRangeError("queue closed");
      return absl::UnavailableError("queue empty");
    }
    T item = store_.Pop();
    AdmitPutter();
    return item;
  }

  // Stops new puts, wakes queued putters (FAILED_PRECONDITION) and, once the queue is empty,
  // queued getters (OUT_OF_RANGE).
  void Close() {
    closed_ = true;
    while (tasks_internal::Waiter* w = putters_.front()) w->Wake(tasks_internal::WakeCode::kClosed);
    if (store_.size() == 0) {
      while (tasks_internal::Waiter* w = getters_.front()) {
        w->Wake(tasks_internal::WakeCode::kClosed);
      }
    }
  }

  class [[nodiscard]] PutAwaiter : tasks_internal::Waiter {
   public:
    PutAwaiter(BasicQueue& q, T item) : q_(q), item_(std::move(item)) {}
    bool await_ready() {
      result_ = q_.PutNow(*item_);
      if (absl::IsResourceExhausted(result_)) return false;  // full: wait, item kept
      item_.reset();
      return true;
    }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      waiting_ = true;
      return Suspend(q_.putters_, h);
    }
    absl::Status await_resume() {
      if (!waiting_) return result_;
      switch (code()) {
        case tasks_internal::WakeCode::kOk:
          return absl::OkStatus();
        case tasks_internal::WakeCode::kClosed:
          return absl::FailedPreconditionError("queue closed");
        default:
          return absl::CancelledError("Queue put cancelled");
      }
    }

   private:
    friend class BasicQueue;
    BasicQueue& q_;
    std::optional<T> item_;
    absl::Status result_;
    bool waiting_ = false;
  };

  class [[nodiscard]] GetAwaiter : tasks_internal::Waiter {
   public:
    explicit GetAwaiter(BasicQueue& q) : q_(q) {}
    bool await_ready() {
      if (q_.store_.size() > 0 && q_.getters_.empty()) {
        item_.emplace(q_.store_.Pop());
        q_.AdmitPutter();
        return true;
      }
      return q_.closed_ && q_.store_.size() == 0;
    }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return Suspend(q_.getters_, h);
    }
    absl::StatusOr<T> await_resume() {
      if (item_.has_value()) return std::move(*item_);
      if (code() == tasks_internal::WakeCode::kCancelled) {
        return absl::CancelledError("Queue get cancelled");
      }
      return absl::OutOfRangeError("queue closed");
    }

   private:
    friend class BasicQueue;
    BasicQueue& q_;
    std::optional<T> item_;
  };

  PutAwaiter Put(T item) { return PutAwaiter(*this, std::move(item)); }
  GetAwaiter Get() { return GetAwaiter(*this); }

 private:
  // OK: the item was moved in (or to a waiting getter). FAILED_PRECONDITION: closed.
  // RESOURCE_EXHAUSTED: full, or putters are queued ahead; the item is left untouched.
  absl::Status PutNow(T& item) {
    if (closed_) return absl::FailedPreconditionError("queue closed");
    if (tasks_internal::Waiter* w = getters_.front()) {  // only when the store is empty
      static_cast<GetAwaiter*>(w)->item_.emplace(std::move(item));
      w->Wake(tasks_internal::WakeCode::kOk);
      return absl::OkStatus();
    }
    if (full() || !putters_.empty()) return absl::ResourceExhaustedError("queue full");
    store_.Push(std::move(item));
    return absl::OkStatus();
  }

  // After an item left the store: move the first queued putter's item in and wake it.
  void AdmitPutter() {
    tasks_internal::Waiter* w = putters_.front();
    if (w == nullptr || full()) return;
    auto* p = static_cast<PutAwaiter*>(w);
    store_.Push(std::move(*p->item_));
    p->item_.reset();
    w->Wake(tasks_internal::WakeCode::kOk);
  }

  const size_t capacity_;
  bool closed_ = false;
  Store store_;
  tasks_internal::WaitList getters_;
  tasks_internal::WaitList putters_;
};

template <typename T>
using Queue = BasicQueue<T, FifoStore<T>>;
template <typename T>
using LifoQueue = BasicQueue<T, LifoStore<T>>;
template <typename T, typename Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, PriorityStore<T, Compare>>;

}  // namespace corio

#endif  // CORIO_TASKS_QUEUE_H_
