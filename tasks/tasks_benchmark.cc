// Task layer benchmarks, the jobs of ../shared/bench/micro (asio_micro.cpp "spawn" and "idle",
// asyncio_micro.py) plus Gather and Queue:
//   bazel run -c opt //tasks:tasks_benchmark
// Counters: ns_per_op, allocs_per_task (every malloc in the process, counted by interposing
// malloc), bytes_per_idle (RSS delta / tasks, each suspended on one Event).
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "loop/event_loop.h"
#include "tasks/event.h"
#include "tasks/frame_allocator.h"
#include "tasks/gather.h"
#include "tasks/queue.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"

// Counts every malloc in the process (frames, std containers, everything). Not under the
// sanitizers, which intercept malloc themselves (the benchmark is then only a smoke test).
static std::atomic<int64_t> g_mallocs{0};
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
extern "C" void* __libc_malloc(size_t size);
extern "C" void* malloc(size_t size) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
#endif

namespace corio {
namespace {

int64_t NowNs() { return loop_internal::MonotonicNanos(); }

long RssBytes() {
  long pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

Task<void> Noop(long* done) {
  ++*done;
  co_return;
}

// Spawn + complete 1M trivial tasks (asio: co_spawn(detached) 1M from a handler, then run).
// Arg: frame recycling off/on.
void BM_SpawnComplete(benchmark::State& state) {
  constexpr long kN = 1'000'000;
  tasks_internal::SetFrameRecyclingForBenchmark(state.range(0) != 0);
  auto loop = EventLoop::Create().value();
  int64_t total = 0, mallocs = 0;
  for (auto _ : state) {
    long done = 0;
    const int64_t m0 = g_mallocs.load();
    const int64_t t0 = NowNs();
    loop->CallSoon([&] {
      for (long i = 0; i < kN; ++i) Spawn(*loop, Noop(&done)).Detach();
    });
    (void)loop->RunUntilIdle();
    total += NowNs() - t0;
    mallocs += g_mallocs.load() - m0;
    if (done != kN) state.SkipWithError("lost tasks");
  }
  tasks_internal::SetFrameRecyclingForBenchmark(true);
  state.counters["ns_per_op"] = static_cast<double>(total) / (state.iterations() * kN);
  state.counters["allocs_per_task"] = static_cast<double>(mallocs) / (state.iterations() * kN);
}
BENCHMARK(BM_SpawnComplete)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Steady state: spawn and complete one task at a time (frames are reused).
void BM_SpawnCompleteSteady(benchmark::State& state) {
  auto loop = EventLoop::Create().value();
  long done = 0;
  const int64_t m0 = g_mallocs.load();
  for (auto _ : state) {
    Spawn(*loop, Noop(&done)).Detach();
    (void)loop->RunUntilIdle();
  }
  state.counters["allocs_per_task"] =
      static_cast<double>(g_mallocs.load() - m0) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SpawnCompleteSteady);

Task<int> One() { co_return 1; }

Task<absl::Status> GatherMany(long n) {
  std::vector<Task<int>> tasks;
  tasks.reserve(n);
  for (long i = 0; i < n; ++i) tasks.push_back(One());
  absl::StatusOr<std::vector<int>> r = co_await Gather(std::move(tasks));
  co_return r.status();
}

void BM_Gather1M(benchmark::State& state) {
  constexpr long kN = 1'000'000;
  int64_t total = 0;
  for (auto _ : state) {
    auto loop = EventLoop::Create().value();
    const int64_t t0 = NowNs();
    absl::Status s = Run(*loop, GatherMany(kN));
    total += NowNs() - t0;
    if (!s.ok()) state.SkipWithError("gather failed");
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / (state.iterations() * kN);
}
BENCHMARK(BM_Gather1M)->Unit(benchmark::kMillisecond);

Task<absl::Status> Pong(Queue<int>* in, Queue<int>* out) {
  for (;;) {
    absl::StatusOr<int> v = co_await in->Get();
    if (!v.ok()) co_return absl::OkStatus();  // closed
    absl::Status put = co_await out->Put(*v);
    if (!put.ok()) co_return put;
  }
}

Task<absl::Status> Ping(Queue<int>* out, Queue<int>* in, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    absl::Status put = co_await out->Put(static_cast<int>(i));
    if (!put.ok()) co_return put;
    absl::StatusOr<int> v = co_await in->Get();
    if (!v.ok()) co_return v.status();
  }
  out->Close();
  co_return absl::OkStatus();
}

// Two tasks bounce 100k messages through two queues: ns per round trip.
void BM_QueuePingPong(benchmark::State& state) {
  constexpr long kRounds = 100'000;
  int64_t total = 0;
  for (auto _ : state) {
    auto loop = EventLoop::Create().value();
    auto main = []() -> Task<absl::Status> {
      Queue<int> a(1), b(1);
      JoinHandle<absl::Status> pong = Spawn(Pong(&a, &b));
      absl::Status s = co_await Ping(&a, &b, kRounds);
      absl::Status p = co_await std::move(pong);
      co_return s.ok() ? p : s;
    };
    const int64_t t0 = NowNs();
    absl::Status s = Run(*loop, main());
    total += NowNs() - t0;
    if (!s.ok()) state.SkipWithError("ping-pong failed");
  }
  state.counters["ns_per_round_trip"] = static_cast<double>(total) / (state.iterations() * kRounds);
}
BENCHMARK(BM_QueuePingPong)->Unit(benchmark::kMillisecond);

Task<void> TakeOne(Queue<int>* q, long* got) {
  absl::StatusOr<int> v = co_await q->Get();
  if (v.ok()) ++*got;
}

// 100k consumer tasks wait on one queue; a producer puts 100k items: ns per item delivered.
void BM_QueueFanOut(benchmark::State& state) {
  constexpr long kN = 100'000;
  int64_t total = 0;
  for (auto _ : state) {
    auto loop = EventLoop::Create().value();
    long got = 0;
    auto main = [](long* got) -> Task<absl::Status> {
      Queue<int> q;
      for (long i = 0; i < kN; ++i) Spawn(TakeOne(&q, got)).Detach();
      (void)co_await Yield();  // every consumer is waiting now
      for (long i = 0; i < kN; ++i) {
        absl::Status s = co_await q.Put(static_cast<int>(i));
        if (!s.ok()) co_return s;
      }
      while (*got < kN) (void)co_await Yield();
      co_return absl::OkStatus();
    };
    const int64_t t0 = NowNs();
    absl::Status s = Run(*loop, main(&got));
    total += NowNs() - t0;
    if (!s.ok() || got != kN) state.SkipWithError("fan-out lost items");
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / (state.iterations() * kN);
}
BENCHMARK(BM_QueueFanOut)->Unit(benchmark::kMillisecond);

Task<void> WaitOn(Event* e) { (void)co_await e->Wait(); }

// N tasks suspended on one Event (asio: N coroutines each on a never-expiring timer;
// asyncio: N tasks on one Event): RSS delta per task.
// bytes_per_idle is the growth of the heap in use (mallinfo2: chunk sizes, malloc's overhead
// included), which does not depend on what earlier benchmarks left in malloc's free lists;
// rss_bytes_per_idle is the RSS growth, meaningful when the benchmark runs alone:
//   bazel run -c opt //tasks:tasks_benchmark -- --benchmark_filter=Idle
void BM_IdleTaskMemory(benchmark::State& state) {
  const long n = state.range(0);
  double bytes = 0, rss = 0;
  for (auto _ : state) {
    auto loop = EventLoop::Create().value();
    Event e;
    // Grow the loop's ready queue to n entries first: spawning n tasks at once queues n first
    // steps, and that queue capacity is the loop's (kept, reused), not the idle tasks' cost.
    long done = 0;
    for (long i = 0; i < n; ++i) Spawn(*loop, Noop(&done)).Detach();
    (void)loop->RunUntilIdle();
    const long r0 = RssBytes();
    const size_t h0 = mallinfo2().uordblks;
    for (long i = 0; i < n; ++i) Spawn(*loop, WaitOn(&e)).Detach();
    (void)loop->RunUntilIdle();  // every task has started and suspended
    bytes += static_cast<double>(mallinfo2().uordblks - h0) / n;
    rss += static_cast<double>(RssBytes() - r0) / n;
    if (e.waiters() != static_cast<size_t>(n)) state.SkipWithError("not all tasks waiting");
    loop->CallSoon([&] { e.Set(); });
    (void)loop->RunUntilIdle();
  }
  state.counters["bytes_per_idle"] = bytes / state.iterations();
  state.counters["rss_bytes_per_idle"] = rss / state.iterations();
}
BENCHMARK(BM_IdleTaskMemory)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace corio
