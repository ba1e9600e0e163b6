#include "loop/timer_wheel.h"

#include <map>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace corio::loop_internal {
namespace {

// Pops must agree with a model ordered by (deadline rounded up to the resolution, insertion).
void CheckAgainstModel(int64_t resolution, int64_t max_delay, uint32_t seed) {
  std::mt19937 rng(seed);
  TimerWheel wheel(resolution, 0);
  std::map<std::pair<int64_t, int>, int> model;
  std::vector<std::pair<TimerWheel::Id, std::pair<int64_t, int>>> live;
  std::vector<int> popped;
  int seq = 0;
  int64_t now = 0;
  auto tick_of = [&](int64_t d) { return (d + resolution - 1) / resolution; };
  for (int step = 0; step < 100000; ++step) {
    const int op = rng() % 10;
    if (op < 5) {
      const int64_t deadline = now + static_cast<int64_t>(rng() % max_delay);
      const int id = seq++;
      TimerWheel::Id tid =
          wheel.Add(deadline, TimerCallback([&popped, id] { popped.push_back(id); }));
      model[{tick_of(deadline), id}] = id;
      live.push_back({tid, {tick_of(deadline), id}});
    } else if (op < 8 && !live.empty()) {
      const size_t i = rng() % live.size();
      EXPECT_EQ(wheel.Cancel(live[i].first), model.erase(live[i].second) > 0);
      live[i] = live.back();
      live.pop_back();
    } else {
      now += rng() % (max_delay / 10 + 1);
      if (!model.empty()) {
        ASSERT_LE(wheel.NextDeadline(), model.begin()->first.first * resolution);
      }
      TimerCallback cb;
      while (wheel.PopExpired(now, &cb)) {
        ASSERT_FALSE(model.empty());
        ASSERT_LE(model.begin()->first.first * resolution, now) << "fired early";
        const int expected = model.begin()->second;
        model.erase(model.begin());
        popped.clear();
        cb();
        ASSERT_EQ(popped.size(), 1u);
        ASSERT_EQ(popped[0], expected);
      }
      if (!model.empty()) {
        ASSERT_GT(model.begin()->first.first * resolution, now) << "a due timer was not popped";
      }
    }
    ASSERT_EQ(wheel.size(), model.size());
  }
}

TEST(TimerWheelTest, ExactOrderAtUnitResolution) { CheckAgainstModel(1, 1000, 1); }
TEST(TimerWheelTest, SlotOrderAtCoarseResolution) { CheckAgainstModel(7, 1000, 2); }
TEST(TimerWheelTest, LongDelaysCascadeThroughLevels) { CheckAgainstModel(1, 50'000'000, 3); }

TEST(TimerWheelTest, StaleIdsAreIgnored) {
  TimerWheel wheel(10, 0);
  TimerWheel::Id a = wheel.Add(100, TimerCallback([] {}));
  EXPECT_TRUE(wheel.Cancel(a));
  EXPECT_FALSE(wheel.Cancel(a));
  TimerWheel::Id b = wheel.Add(100, TimerCallback([] {}));
  EXPECT_FALSE(wheel.Cancel(a));
  EXPECT_TRUE(wheel.IsPending(b));
}

TEST(TimerWheelTest, MemoryIsReleasedWhenABurstDrains) {
  TimerWheel wheel(1000, 0);
  std::vector<TimerWheel::Id> ids;
  const int kN = static_cast<int>(TimerWheel::kReleaseAbove) + 1000;
  for (int i = 0; i < kN; ++i) ids.push_back(wheel.Add(i * 1000, TimerCallback([] {})));
  EXPECT_GE(wheel.capacity_for_test(), static_cast<size_t>(kN));
  for (int i = 0; i < kN - 10000; ++i) ASSERT_TRUE(wheel.Cancel(ids[i]));
  TimerCallback cb;
  int n = 0;
  while (wheel.PopExpired(INT64_MAX / 2, &cb)) ++n;
  EXPECT_EQ(n, 10000);
  EXPECT_EQ(wheel.capacity_for_test(), 0u);
  TimerWheel::Id fresh = wheel.Add(1, TimerCallback([] {}));
  for (const TimerWheel::Id& id : ids) ASSERT_FALSE(wheel.Cancel(id));
  EXPECT_TRUE(wheel.IsPending(fresh));
}

}  // namespace
}  // namespace corio::loop_internal
