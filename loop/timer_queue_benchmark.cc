// 4-ary heap (TimerQueue, what the loop uses) against a hierarchical wheel (TimerWheel), on
// the jobs a loop's timers do:
//   bazel run -c opt //loop:timer_queue_benchmark
// Fire: 100k timers, deadlines uniform in [0, 100 ms), popped in 250 us steps (the loop's
// slack). Cancel90: 1M timers 1-100 s out, 90% cancelled in random order. Churn: 10k pending
// 30 s timeouts; each op adds one and cancels the oldest (timeouts that never fire).
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "loop/timer_queue.h"
#include "loop/timer_wheel.h"

namespace corio::loop_internal {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSlack = 250'000;

struct Heap {
  TimerQueue q;
  explicit Heap(int64_t) {}
  using Id = TimerQueue::Id;
};
struct Wheel {
  TimerWheel q;
  explicit Wheel(int64_t now) : q(kSlack, now) {}
  using Id = TimerWheel::Id;
};

template <typename T>
void BM_Fire(benchmark::State& state) {
  constexpr int kN = 100'000;
  std::mt19937 rng(42);
  std::vector<int64_t> deadlines(kN);
  for (auto& d : deadlines) d = 1000 * kMs + static_cast<int64_t>(rng() % (100 * kMs));
  int64_t fired = 0;
  for (auto _ : state) {
    T t(1000 * kMs);
    for (int64_t d : deadlines) t.q.Add(d, TimerCallback([&fired] { ++fired; }));
    TimerCallback cb;
    for (int64_t now = 1000 * kMs; !t.q.empty(); now += kSlack) {
      while (t.q.PopExpired(now, &cb)) cb();
    }
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK_TEMPLATE(BM_Fire, Heap)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Fire, Wheel)->Unit(benchmark::kMillisecond);

template <typename T>
void BM_Cancel90(benchmark::State& state) {
  constexpr int kN = 1'000'000;
  std::mt19937 rng(7);
  std::vector<int64_t> deadlines(kN);
  for (auto& d : deadlines) d = static_cast<int64_t>(1000 + rng() % 99000) * kMs;
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<typename T::Id> ids(kN);
  for (auto _ : state) {
    T t(0);
    for (int i = 0; i < kN; ++i) ids[i] = t.q.Add(deadlines[i], TimerCallback([] {}));
    for (int i = 0; i < kN * 9 / 10; ++i) t.q.Cancel(ids[order[i]]);
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK_TEMPLATE(BM_Cancel90, Heap)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Cancel90, Wheel)->Unit(benchmark::kMillisecond);

template <typename T>
void BM_Churn(benchmark::State& state) {
  constexpr int kPending = 10'000;
  T t(0);
  std::deque<typename T::Id> live;
  int64_t now = 0;
  for (int i = 0; i < kPending; ++i) live.push_back(t.q.Add(now + 30'000 * kMs, TimerCallback([] {})));
  for (auto _ : state) {
    now += 1000;  // 1 us per op
    live.push_back(t.q.Add(now + 30'000 * kMs, TimerCallback([] {})));
    t.q.Cancel(live.front());
    live.pop_front();
    TimerCallback cb;
    if ((now & 0xFFFFF) == 0) {
      while (t.q.PopExpired(now, &cb)) cb();  // the loop's periodic check
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_Churn, Heap);
BENCHMARK_TEMPLATE(BM_Churn, Wheel);

}  // namespace
}  // namespace corio::loop_internal
