#include "loop/timer_queue.h"

#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace corio::loop_internal {
namespace {

TEST(TimerQueueTest, PopsInDeadlineOrderAndFifoForTies) {
  TimerQueue q;
  std::vector<int> fired;
  auto add = [&](int64_t deadline, int id) {
    q.Add(deadline, TimerCallback([&fired, id] { fired.push_back(id); }));
  };
  add(30, 1);
  add(10, 2);
  add(20, 3);
  add(10, 4);
  add(10, 5);
  TimerCallback cb;
  EXPECT_FALSE(q.PopExpired(9, &cb));
  while (q.PopExpired(100, &cb)) cb();
  EXPECT_EQ(fired, (std::vector<int>{2, 4, 5, 3, 1}));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueueTest, CancelRemovesAtOnceAndStaleIdsAreIgnored) {
  TimerQueue q;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  TimerQueue::Id a = q.Add(5, TimerCallback([t = std::move(token)] {}));
  TimerQueue::Id b = q.Add(6, TimerCallback([] {}));
  EXPECT_TRUE(q.IsPending(a));
  EXPECT_TRUE(q.Cancel(a));
  EXPECT_TRUE(weak.expired());  // the callback is destroyed on cancel, not at its deadline
  EXPECT_FALSE(q.Cancel(a));
  EXPECT_FALSE(q.IsPending(a));
  EXPECT_EQ(q.size(), 1u);
  // The freed node is reused; the old id must not cancel the new timer.
  TimerQueue::Id c = q.Add(7, TimerCallback([] {}));
  EXPECT_EQ(c.node, a.node);
  EXPECT_FALSE(q.Cancel(a));
  EXPECT_TRUE(q.IsPending(c));
  TimerCallback cb;
  ASSERT_TRUE(q.PopExpired(6, &cb));
  EXPECT_FALSE(q.IsPending(b));
  EXPECT_FALSE(q.Cancel(b));
  EXPECT_EQ(q.NextDeadline(), 7);
  EXPECT_FALSE(q.Cancel(TimerQueue::Id{}));
}

TEST(TimerQueueTest, MatchesAReferenceModelUnderRandomOperations) {
  std::mt19937 rng(1234);
  TimerQueue q;
  // Reference: (deadline, insertion seq) -> id; pops must agree.
  std::map<std::pair<int64_t, int>, int> model;
  std::vector<std::pair<TimerQueue::Id, std::pair<int64_t, int>>> live;
  std::vector<int> popped;
  int seq = 0;
  int64_t now = 0;
  for (int step = 0; step < 200000; ++step) {
    const int op = rng() % 10;
    if (op < 5) {
      const int64_t deadline = now + static_cast<int64_t>(rng() % 1000);
      const int id = seq++;
      TimerQueue::Id tid = q.Add(deadline, TimerCallback([&popped, id] { popped.push_back(id); }));
      model[{deadline, id}] = id;
      live.push_back({tid, {deadline, id}});
    } else if (op < 8 && !live.empty()) {
      const size_t i = rng() % live.size();
      const bool was_pending = model.count(live[i].second) > 0;
      EXPECT_EQ(q.Cancel(live[i].first), was_pending);
      model.erase(live[i].second);
      live[i] = live.back();
      live.pop_back();
    } else {
      now += rng() % 50;
      TimerCallback cb;
      while (q.PopExpired(now, &cb)) {
        ASSERT_FALSE(model.empty());
        ASSERT_LE(model.begin()->first.first, now);
        const int expected = model.begin()->second;
        model.erase(model.begin());
        popped.clear();
        cb();
        ASSERT_EQ(popped.size(), 1u);
        ASSERT_EQ(popped[0], expected);
      }
      if (!model.empty()) {
        ASSERT_GT(model.begin()->first.first, now);
      }
    }
    ASSERT_EQ(q.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(q.NextDeadline(), model.begin()->first.first);
    }
  }
}

TEST(TimerQueueTest, MemoryIsReleasedWhenABurstDrains) {
  TimerQueue q;
  std::vector<TimerQueue::Id> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back(q.Add(i, TimerCallback([] {})));
  EXPECT_GE(q.capacity_for_test(), 100000u);
  for (int i = 0; i < 90000; ++i) ASSERT_TRUE(q.Cancel(ids[i]));
  EXPECT_EQ(q.size(), 10000u);
  TimerCallback cb;
  int n = 0;
  while (q.PopExpired(INT64_MAX, &cb)) ++n;
  EXPECT_EQ(n, 10000);
  EXPECT_EQ(q.capacity_for_test(), 0u);
  // Old ids stay harmless after the slab is gone and reused.
  TimerQueue::Id fresh = q.Add(1, TimerCallback([] {}));
  for (const TimerQueue::Id& id : ids) ASSERT_FALSE(q.Cancel(id));
  EXPECT_TRUE(q.IsPending(fresh));
}

}  // namespace
}  // namespace corio::loop_internal
