#include "loop/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace corio::loop_internal {

TimerWheel::TimerWheel(int64_t resolution_ns, int64_t now_ns)
    : resolution_(resolution_ns > 0 ? resolution_ns : 1),
      current_(static_cast<uint64_t>(now_ns) / static_cast<uint64_t>(resolution_)) {
  Cascade();
}

uint16_t TimerWheel::SlotFor(uint64_t tick) const {
  if (tick < current_) tick = current_;
  // The level is given by the highest bit in which the tick differs from the current one.
  const uint64_t diff = tick ^ current_;
  const int level = diff == 0 ? 0 : (63 - std::countl_zero(diff)) / 6;
  return static_cast<uint16_t>(level * 64 + ((tick >> (6 * level)) & 63));
}

void TimerWheel::Link(uint32_t n) {
  Node& node = nodes_[n];
  const bool due = node.tick < current_;  // its tick has been processed already
  if (!due) node.slot = SlotFor(node.tick);
  List& l = due ? due_ : slots_[node.slot];
  node.prev = l.tail;
  node.next = kNil;
  if (l.tail != kNil) {
    nodes_[l.tail].next = n;
  } else {
    l.head = n;
  }
  l.tail = n;
  if (!due) occupied_[node.slot / 64] |= 1ull << (node.slot % 64);
}

void TimerWheel::Unlink(uint32_t n) {
  Node& node = nodes_[n];
  const bool due = node.tick < current_;
  List& l = due ? due_ : slots_[node.slot];
  if (node.prev != kNil) {
    nodes_[node.prev].next = node.next;
  } else {
    l.head = node.next;
  }
  if (node.next != kNil) {
    nodes_[node.next].prev = node.prev;
  } else {
    l.tail = node.prev;
  }
  if (!due && l.head == kNil) occupied_[node.slot / 64] &= ~(1ull << (node.slot % 64));
}

TimerWheel::Id TimerWheel::Add(int64_t deadline, TimerCallback cb) {
  uint32_t stamp = next_stamp_++;
  if (stamp == 0) stamp = next_stamp_++;
  uint32_t n;
  if (free_head_ != kNil) {
    n = free_head_;
    free_head_ = nodes_[n].next;
    callbacks_[n] = std::move(cb);
  } else {
    n = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(Node{0, kNil, kNil, 0, 0});
    callbacks_.push_back(std::move(cb));
  }
  Node& node = nodes_[n];
  node.stamp = stamp;
  const uint64_t d = deadline <= 0 ? 0 : static_cast<uint64_t>(deadline);
  node.tick = d / resolution_ + (d % resolution_ != 0 ? 1 : 0);
  Link(n);
  ++size_;
  return Id{n, stamp};
}

bool TimerWheel::IsPending(Id id) const {
  return id.stamp != 0 && id.node < nodes_.size() && nodes_[id.node].stamp == id.stamp;
}

bool TimerWheel::Cancel(Id id) {
  if (!IsPending(id)) return false;
  Unlink(id.node);
  FreeNode(id.node);
  return true;
}

void TimerWheel::CancelAll() {
  for (uint32_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].stamp == 0) continue;
    TimerCallback cb = std::move(callbacks_[n]);
    Unlink(n);
    FreeNode(n);  // may release the slab (nodes_ empties, which ends the walk)
    cb.Reset();   // last: its destructor may add timers
  }
}

void TimerWheel::FreeNode(uint32_t n) {
  Node& node = nodes_[n];
  callbacks_[n].Reset();
  node.stamp = 0;
  node.next = free_head_;
  free_head_ = n;
  if (--size_ == 0 && nodes_.size() > kReleaseAbove) {
    // Drained after a burst: give the slab back. Every list is empty, and stale Ids stay
    // harmless because stamps are not reused (until 2^32 more timers).
    std::vector<Node>().swap(nodes_);
    std::vector<TimerCallback>().swap(callbacks_);
    free_head_ = kNil;
  }
}

uint64_t TimerWheel::EarliestSlotStart() const {
  for (int level = 0; level < kLevels; ++level) {
    if (occupied_[level] == 0) continue;
    // Occupied slots of a level are always ahead of its current position (a timer sits at the
    // level of the highest digit in which its tick exceeds the current one).
    const int slot = std::countr_zero(occupied_[level]);
    const uint64_t base =
        level + 1 < kLevels ? (current_ >> (6 * (level + 1))) << (6 * (level + 1)) : 0;
    const uint64_t tick = base + (static_cast<uint64_t>(slot) << (6 * level));
    return tick < current_ ? current_ : tick;
  }
  return UINT64_MAX;
}

int64_t TimerWheel::NextDeadline() const {
  const uint64_t tick = due_.head != kNil ? nodes_[due_.head].tick : EarliestSlotStart();
  if (tick >= static_cast<uint64_t>(INT64_MAX) / resolution_) return INT64_MAX;
  return static_cast<int64_t>(tick) * resolution_;
}

void TimerWheel::Cascade() {
  // Every level whose boundary current_ sits on moves its slot that just came due one level
  // down. Invariant: no slot that starts at or before current_ holds timers above level 0.
  for (int level = 1; level < kLevels; ++level) {
    if ((current_ & ((1ull << (6 * level)) - 1)) != 0) break;
    const uint16_t slot = static_cast<uint16_t>(level * 64 + ((current_ >> (6 * level)) & 63));
    const List l = slots_[slot];
    if (l.head == kNil) continue;
    slots_[slot] = List{};
    occupied_[level] &= ~(1ull << (slot % 64));
    for (uint32_t n = l.head; n != kNil;) {
      const uint32_t next = nodes_[n].next;
      Link(n);
      n = next;
    }
  }
}

void TimerWheel::AdvanceTo(uint64_t target) {
  while (current_ <= target) {
    // Level 0: the current tick's timers are due.
    const uint16_t slot = static_cast<uint16_t>(current_ & 63);
    List& l = slots_[slot];
    if (l.head != kNil) {  // becomes "due" as current_ passes its tick: no per-node work
      if (due_.tail != kNil) {
        nodes_[due_.tail].next = l.head;
        nodes_[l.head].prev = due_.tail;
      } else {
        due_.head = l.head;
      }
      due_.tail = l.tail;
      l = List{};
      occupied_[0] &= ~(1ull << slot);
    }
    ++current_;
    if (occupied_[0] == 0) {
      // Nothing in level 0: skip to the next slot that has timers (where they cascade), or
      // past the target. The boundaries skipped have nothing to cascade.
      const uint64_t next = EarliestSlotStart();
      current_ = next <= target ? std::max(next, current_) : std::max(current_, target + 1);
    }
    Cascade();
  }
}

bool TimerWheel::PopExpired(int64_t now, TimerCallback* out) {
  if (due_.head == kNil) {
    if (size_ == 0 || now < 0) return false;
    const uint64_t now_tick = static_cast<uint64_t>(now) / resolution_;
    if (now_tick < current_) return false;
    AdvanceTo(now_tick);
    if (due_.head == kNil) return false;
  }
  const uint32_t n = due_.head;
  Unlink(n);
  *out = std::move(callbacks_[n]);
  FreeNode(n);
  return true;
}

}  // namespace corio::loop_internal
