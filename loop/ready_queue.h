// ReadyQueue: the event loop's FIFO of callbacks to run, a growable power-of-two ring buffer.
// Push and Pop are a few instructions for inline callbacks; growth relocates entries (memcpy
// for trivially copyable ones). Capacity stays at its high-water mark, like std::vector.
//
// Threading: not thread-safe (the loop's thread only).
// Ownership: owns queued callbacks; destroying the queue destroys them without running them.
#ifndef CORIO_LOOP_READY_QUEUE_H_
#define CORIO_LOOP_READY_QUEUE_H_

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include "loop/callback.h"

namespace corio::loop_internal {

class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;
  ~ReadyQueue() {
    while (!empty()) Pop();
    ::operator delete(buf_);
  }

  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }

  void Push(Callback&& cb) {
    if (size() == capacity_) Grow();
    ::new (&buf_[tail_ & (capacity_ - 1)]) Callback(std::move(cb));
    ++tail_;
  }

  // Precondition: !empty().
  Callback Pop() {
    Callback* slot = &buf_[head_ & (capacity_ - 1)];
    Callback cb(std::move(*slot));
    slot->~Callback();
    ++head_;
    return cb;
  }

 private:
  void Grow() {
    const size_t new_capacity = capacity_ == 0 ? 256 : capacity_ * 2;
    auto* fresh = static_cast<Callback*>(::operator new(new_capacity * sizeof(Callback)));
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) {
      Callback* from = &buf_[(head_ + i) & (capacity_ - 1)];
      ::new (&fresh[i]) Callback(std::move(*from));
      from->~Callback();
    }
    ::operator delete(buf_);
    buf_ = fresh;
    capacity_ = new_capacity;
    head_ = 0;
    tail_ = n;
  }

  Callback* buf_ = nullptr;
  size_t capacity_ = 0;  // a power of two
  size_t head_ = 0;      // monotonically increasing; index = counter & (capacity_ - 1)
  size_t tail_ = 0;
};

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_READY_QUEUE_H_
