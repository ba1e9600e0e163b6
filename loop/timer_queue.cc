#include "loop/timer_queue.h"

#include <utility>

namespace corio::loop_internal {

TimerQueue::Id TimerQueue::Add(int64_t deadline, TimerCallback cb) {
  uint32_t stamp = next_stamp_++;
  if (stamp == 0) stamp = next_stamp_++;  // wrapped
  uint32_t node;
  if (free_head_ != kNoFree) {
    node = free_head_;
    free_head_ = nodes_[node].heap_pos;
    nodes_[node].cb = std::move(cb);
  } else {
    node = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(Node{std::move(cb), 0, 0});
  }
  nodes_[node].stamp = stamp;
  heap_.push_back(Entry{});
  SiftUp(static_cast<uint32_t>(heap_.size() - 1), Entry{deadline, stamp, node});
  return Id{node, stamp};
}

bool TimerQueue::IsPending(Id id) const {
  return id.stamp != 0 && id.node < nodes_.size() && nodes_[id.node].stamp == id.stamp;
}

bool TimerQueue::Cancel(Id id) {
  if (!IsPending(id)) return false;
  RemoveAt(nodes_[id.node].heap_pos);
  FreeNode(id.node);  // destroys the callback
  return true;
}

bool TimerQueue::PopExpired(int64_t now, TimerCallback* out) {
  if (heap_.empty() || heap_.front().deadline > now) return false;
  const uint32_t node = heap_.front().node;
  *out = std::move(nodes_[node].cb);
  RemoveAt(0);
  FreeNode(node);
  return true;
}

void TimerQueue::SiftUp(uint32_t pos, Entry e) {
  while (pos > 0) {
    const uint32_t parent = (pos - 1) / 4;
    if (!Less(e, heap_[parent])) break;
    Place(pos, heap_[parent]);
    pos = parent;
  }
  Place(pos, e);
}

void TimerQueue::SiftDown(uint32_t pos, Entry e) {
  const uint32_t n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    const uint32_t first = pos * 4 + 1;
    if (first >= n) break;
    uint32_t best = first;
    const uint32_t last = first + 4 < n ? first + 4 : n;
    for (uint32_t c = first + 1; c < last; ++c) {
      if (Less(heap_[c], heap_[best])) best = c;
    }
    if (!Less(heap_[best], e)) break;
    Place(pos, heap_[best]);
    pos = best;
  }
  Place(pos, e);
}

void TimerQueue::RemoveAt(uint32_t pos) {
  const Entry last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;  // removed the last entry
  if (pos > 0 && Less(last, heap_[(pos - 1) / 4])) {
    SiftUp(pos, last);
  } else {
    SiftDown(pos, last);
  }
}

void TimerQueue::FreeNode(uint32_t node) {
  Node& n = nodes_[node];
  n.cb.Reset();
  n.stamp = 0;
  if (heap_.empty() && nodes_.size() > 4096) {
    // Drained after a burst: give the slab back. Stale Ids stay harmless because stamps are
    // never reused (until 2^32 more timers).
    std::vector<Node>().swap(nodes_);
    std::vector<Entry>().swap(heap_);
    free_head_ = kNoFree;
    return;
  }
  n.heap_pos = free_head_;
  free_head_ = node;
}

}  // namespace corio::loop_internal
