// TimerQueue: the event loop's pending timers, a 4-ary min-heap ordered by (deadline, stamp).
//
//   TimerQueue q;
//   TimerQueue::Id id = q.Add(deadline_ns, TimerCallback([] { ... }));
//   q.Cancel(id);                          // O(log n); the callback is destroyed at once
//   TimerCallback cb;
//   while (q.PopExpired(now_ns, &cb)) cb();
//
// Timers with equal deadlines pop in the order they were added. Heap entries are 16 bytes (four
// children share a cache line); callbacks live in a slab of nodes indexed by the entries, and
// each Id carries the stamp of its timer, so a stale Id (fired, cancelled, or reused slot) is
// recognised and ignored. Cancelled timers leave nothing behind; the slab is released when the
// queue drains.
//
// Threading: not thread-safe (the loop's thread only).
// Ownership: the queue owns pending callbacks; destroying it destroys them without running them.
#ifndef CORIO_LOOP_TIMER_QUEUE_H_
#define CORIO_LOOP_TIMER_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "loop/callback.h"

namespace corio::loop_internal {

class TimerQueue {
 public:
  struct Id {
    uint32_t node = 0;
    uint32_t stamp = 0;  // 0 never names a timer
  };

  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  Id Add(int64_t deadline, TimerCallback cb);
  // Returns true if the timer was pending (and is now cancelled).
  bool Cancel(Id id);
  bool IsPending(Id id) const;

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // Precondition: !empty().
  int64_t NextDeadline() const { return heap_.front().deadline; }

  // If the earliest timer's deadline is <= now, removes it, moves its callback to *out and
  // returns true.
  bool PopExpired(int64_t now, TimerCallback* out);

  size_t capacity_for_test() const { return nodes_.capacity(); }

 private:
  struct Entry {
    int64_t deadline;
    uint32_t stamp;  // insertion order; compared modulo 2^32
    uint32_t node;
  };
  struct Node {
    TimerCallback cb;
    uint32_t heap_pos;  // index in heap_, or next free node when free
    uint32_t stamp;     // 0 when free
  };
  static constexpr uint32_t kNoFree = ~0u;

  static bool Less(const Entry& a, const Entry& b) {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return static_cast<int32_t>(a.stamp - b.stamp) < 0;
  }
  void Place(uint32_t pos, const Entry& e) {
    heap_[pos] = e;
    nodes_[e.node].heap_pos = pos;
  }
  void SiftUp(uint32_t pos, Entry e);
  void SiftDown(uint32_t pos, Entry e);
  void RemoveAt(uint32_t pos);
  void FreeNode(uint32_t node);

  std::vector<Entry> heap_;
  std::vector<Node> nodes_;
  uint32_t free_head_ = kNoFree;
  uint32_t next_stamp_ = 1;
};

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_TIMER_QUEUE_H_
