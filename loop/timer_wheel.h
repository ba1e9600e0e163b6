// TimerWheel: the event loop's pending timers, a hierarchical timing wheel. Same interface as
// TimerQueue (the 4-ary heap it replaced): loop:timer_queue_benchmark measured the wheel 1.6x
// faster on 100k timers that fire, 1.5x on schedule-then-cancel-90% of 1M, and 3.7x on timeout
// churn (add + cancel with 10k pending), the pattern of an HTTP client's per-request timeouts.
//
// Eleven levels of 64 slots; level 0 slots are `resolution_ns` wide, level k slots 64^k times
// that, so any int64 deadline fits. Add and Cancel are O(1) (intrusive lists + occupancy
// bitmaps); timers move down a level when their slot comes due ("cascading"). Deadlines are
// rounded up to the resolution, so timers never fire early, and timers of one level-0 slot
// fire in insertion order (not deadline order within the slot).
//
// Cancelled timers leave nothing behind; the node slab is released when a burst drains.
//
// Threading: not thread-safe (the loop's thread only).
// Ownership: owns pending callbacks; destroying the wheel destroys them without running them.
#ifndef CORIO_LOOP_TIMER_WHEEL_H_
#define CORIO_LOOP_TIMER_WHEEL_H_

#include <cstdint>
#include <vector>

#include "loop/callback.h"

namespace corio::loop_internal {

class TimerWheel {
 public:
  struct Id {
    uint32_t node = 0;
    uint32_t stamp = 0;
  };

  explicit TimerWheel(int64_t resolution_ns, int64_t now_ns);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  Id Add(int64_t deadline, TimerCallback cb);
  bool Cancel(Id id);
  // Cancels every pending timer (their callbacks destroyed unrun).
  void CancelAll();
  bool IsPending(Id id) const;
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity_for_test() const { return nodes_.capacity(); }
  static constexpr size_t kReleaseAbove = 1 << 18;  // slab kept after bursts up to this
  // A lower bound of the earliest deadline (exact for timers in level 0). Precondition: !empty().
  int64_t NextDeadline() const;
  bool PopExpired(int64_t now, TimerCallback* out);

 private:
  static constexpr int kLevels = 11;
  static constexpr uint32_t kNil = ~0u;
  // Links and callbacks are kept apart: cascading walks links only, 24 bytes per timer.
  struct Node {
    uint64_t tick;  // deadline in resolution units, rounded up; < current_ means "due"
    uint32_t prev, next;
    uint32_t stamp;  // 0 when free
    uint16_t slot;   // level * 64 + index (meaningless once due)
  };
  struct List {
    uint32_t head = kNil, tail = kNil;
  };

  uint16_t SlotFor(uint64_t tick) const;
  void Link(uint32_t n);
  void Unlink(uint32_t n);
  void FreeNode(uint32_t n);
  // Moves current_ forward to `target` tick, cascading, and collects due timers into due_.
  void AdvanceTo(uint64_t target);
  void Cascade();
  // Start tick of the earliest occupied slot (the due list aside), or UINT64_MAX.
  uint64_t EarliestSlotStart() const;

  const int64_t resolution_;
  uint64_t current_;  // ticks < current_ have been processed
  std::vector<Node> nodes_;
  std::vector<TimerCallback> callbacks_;  // by node index
  uint32_t free_head_ = kNil;
  uint32_t next_stamp_ = 1;
  size_t size_ = 0;
  List slots_[kLevels * 64];
  uint64_t occupied_[kLevels] = {};
  List due_;  // expired, in order, not yet popped
};

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_TIMER_WHEEL_H_
