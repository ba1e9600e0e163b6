// Event loop micro-benchmarks, the same jobs as ../shared/bench/micro (asio_micro.cpp,
// libuv_micro.c, asyncio_micro.py) so the figures compare directly:
//   bazel run -c opt //loop:event_loop_benchmark
// Counters: ns_per_op (wall), cpu_ns_per_op (process CPU), late_mean_ms / late_max_ms
// (timer lateness), rss_bytes_per_timer, idle_cpu_pct.
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "loop/event_loop.h"

namespace corio {
namespace {

EventLoop::Backend BackendArg(const benchmark::State& state) {
  return state.range(0) == 0 ? EventLoop::Backend::kEpoll : EventLoop::Backend::kIoUring;
}

std::unique_ptr<EventLoop> NewLoop(EventLoop::Backend backend) {
  EventLoop::Options options;
  options.backend = backend;
  return EventLoop::Create(std::move(options)).value();
}

int64_t NowNs() { return loop_internal::MonotonicNanos(); }

double CpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

long RssBytes() {
  long pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// 1M callbacks posted from one callback, then run (asio: post inside a handler, then run()).
void BM_PostBatch(benchmark::State& state) {
  constexpr int kN = 1'000'000;
  auto loop = NewLoop(BackendArg(state));
  int64_t total = 0;
  for (auto _ : state) {
    long done = 0;
    const int64_t t0 = NowNs();
    loop->CallSoon([&] {
      for (int i = 0; i < kN; ++i) loop->CallSoon([&done] { ++done; });
    });
    (void)loop->RunUntilIdle();
    total += NowNs() - t0;
    if (done != kN) state.SkipWithError("lost callbacks");
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / (state.iterations() * kN);
}
BENCHMARK(BM_PostBatch)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Each callback posts the next, 1M times.
void BM_PostChain(benchmark::State& state) {
  constexpr long kN = 1'000'000;
  auto loop = NewLoop(BackendArg(state));
  int64_t total = 0;
  struct Chain {
    EventLoop* loop;
    long* left;
    void operator()() const {
      if (--*left > 0) loop->CallSoon(*this);
    }
  };
  for (auto _ : state) {
    long left = kN;
    const int64_t t0 = NowNs();
    loop->CallSoon(Chain{loop.get(), &left});
    (void)loop->RunUntilIdle();
    total += NowNs() - t0;
    if (left != 0) state.SkipWithError("chain broke");
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / (state.iterations() * kN);
}
BENCHMARK(BM_PostChain)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// 100k timers with random 0-100 ms deadlines (whole ms, seed 42, like the anchors), real
// clock: CPU per timer and lateness.
void BM_Timers(benchmark::State& state) {
  constexpr int kN = 100'000;
  auto loop = NewLoop(BackendArg(state));
  double cpu_total = 0, late_sum = 0, late_max = 0;
  int64_t wall_total = 0;
  for (auto _ : state) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> ms(0, 100);
    int fired = 0;
    const double c0 = CpuNs();
    const int64_t t0 = NowNs();
    for (int i = 0; i < kN; ++i) {
      const absl::Duration d = absl::Milliseconds(ms(rng));
      const absl::Time deadline = loop->Now() + d;
      loop->CallAt(deadline, [&, deadline] {
        const double late = absl::ToDoubleMilliseconds(loop->Now() - deadline);
        late_sum += late;
        if (late > late_max) late_max = late;
        ++fired;
      });
    }
    (void)loop->RunUntil([&] { return fired == kN; });
    wall_total += NowNs() - t0;
    cpu_total += CpuNs() - c0;
  }
  const double n = static_cast<double>(state.iterations()) * kN;
  state.counters["cpu_ns_per_op"] = cpu_total / n;
  state.counters["ns_per_op"] = wall_total / n;
  state.counters["late_mean_ms"] = late_sum / n;
  state.counters["late_max_ms"] = late_max;
}
BENCHMARK(BM_Timers)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();


// 1M timers scheduled (deadlines 1-100 s), then 90% cancelled in random order: cost per
// schedule + cancel, and memory per scheduled timer while they are pending.
void BM_TimersScheduleThenCancel90(benchmark::State& state) {
  constexpr int kN = 1'000'000;
  auto loop = NewLoop(EventLoop::Backend::kEpoll);
  std::mt19937 rng(7);
  std::vector<TimerHandle> handles(kN);
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  int64_t schedule_ns = 0, cancel_ns = 0;
  long rss_delta = 0;
  for (auto _ : state) {
    const long r0 = RssBytes();
    int64_t t0 = NowNs();
    for (int i = 0; i < kN; ++i) {
      handles[i] = loop->CallLater(absl::Milliseconds(1000 + rng() % 99000), [] {});
    }
    schedule_ns += NowNs() - t0;
    rss_delta += RssBytes() - r0;
    t0 = NowNs();
    for (int i = 0; i < kN * 9 / 10; ++i) handles[order[i]].Cancel();
    cancel_ns += NowNs() - t0;
    state.PauseTiming();
    for (int i = kN * 9 / 10; i < kN; ++i) handles[order[i]].Cancel();
    state.ResumeTiming();
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["schedule_ns_per_op"] = schedule_ns / (it * kN);
  state.counters["cancel_ns_per_op"] = cancel_ns / (it * kN * 0.9);
  state.counters["rss_bytes_per_timer"] = rss_delta / (it * kN);
}
BENCHMARK(BM_TimersScheduleThenCancel90)->Unit(benchmark::kMillisecond);

// Two loops on two threads bounce a CallSoonThreadSafe back and forth.
void BM_CrossThreadPingPong(benchmark::State& state) {
  constexpr int kRounds = 100'000;
  auto a = NewLoop(BackendArg(state));
  auto b = NewLoop(BackendArg(state));
  int64_t total = 0;
  for (auto _ : state) {
    int left = kRounds;
    std::function<void()> ping;  // runs on a
    ping = [&] {
      if (--left == 0) {
        a->Stop();
        b->Stop();
        return;
      }
      b->CallSoonThreadSafe([&] { a->CallSoonThreadSafe([&] { ping(); }); });
    };
    std::thread tb([&] { (void)b->Run(); });
    const int64_t t0 = NowNs();
    a->CallSoon([&] { ping(); });
    (void)a->Run();
    total += NowNs() - t0;
    tb.join();
  }
  state.counters["ns_per_round_trip"] = static_cast<double>(total) / (state.iterations() * kRounds);
}
BENCHMARK(BM_CrossThreadPingPong)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// One byte bounced over a socketpair between two watchers of one loop.
void BM_FdPingPong(benchmark::State& state) {
  constexpr int kRounds = 100'000;
  auto loop = NewLoop(BackendArg(state));
  int fds[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
  int64_t total = 0;
  for (auto _ : state) {
    int left = kRounds;
    char c = 'x';
    FdWatcher wa = FdWatcher::Start(*loop, fds[0], io::kReadable, [&](uint32_t) {
                     char buf[1];
                     if (read(fds[0], buf, 1) != 1) return;
                     if (--left == 0) {
                       loop->Stop();
                     } else {
                       (void)!write(fds[0], &c, 1);
                     }
                   }).value();
    FdWatcher wb = FdWatcher::Start(*loop, fds[1], io::kReadable, [&](uint32_t) {
                     char buf[1];
                     if (read(fds[1], buf, 1) == 1) (void)!write(fds[1], buf, 1);
                   }).value();
    const int64_t t0 = NowNs();
    (void)!write(fds[0], &c, 1);
    (void)loop->Run();
    total += NowNs() - t0;
  }
  close(fds[0]);
  close(fds[1]);
  state.counters["ns_per_round_trip"] = static_cast<double>(total) / (state.iterations() * kRounds);
}
BENCHMARK(BM_FdPingPong)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// A loop with 1,000 pending 60 s timers, left alone for 200 ms: CPU it burns (should be ~0).
void BM_IdleCpu(benchmark::State& state) {
  auto loop = NewLoop(BackendArg(state));
  std::vector<TimerHandle> timers;
  for (int i = 0; i < 1000; ++i) timers.push_back(loop->CallLater(absl::Seconds(60), [] {}));
  double cpu = 0;
  int64_t wall = 0;
  for (auto _ : state) {
    const double c0 = CpuNs();
    const int64_t t0 = NowNs();
    loop->CallLater(absl::Milliseconds(200), [&] { loop->Stop(); });
    (void)loop->Run();
    wall += NowNs() - t0;
    cpu += CpuNs() - c0;
  }
  for (TimerHandle& t : timers) t.Cancel();
  state.counters["idle_cpu_pct"] = 100.0 * cpu / static_cast<double>(wall);
}
BENCHMARK(BM_IdleCpu)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
}  // namespace corio
