// corio's twin of ../shared/bench/micro/asio_micro.cpp: the same five jobs, the same pass
// structure and the same counters, on corio's public API, so the figures compare one to one.
//
//   corio_micro TEST [PASSES [DIVISOR]]
//   TEST = post_batch | post_chain | timers | spawn | idle | idle_sleep
//
// One line per pass: impl=corio test=... n=... pass=K ns_per_op=... (+ test specific fields).
// PASSES defaults to 1: one pass in a fresh process, exactly what the anchor measures. With
// PASSES > 1 the job is repeated on the same loop; passes 2.. are the warm figure (what a
// Google Benchmark loop measures: frame free lists, queue capacity and pages already there).
// `idle` is one pass only (RSS growth means nothing once the pages are there).
//
// The jobs (as in the anchor):
//   post_batch  1M callbacks posted from one callback, then run (ns per callback)
//   post_chain  1M callbacks, each posting the next (ns per callback)
//   timers      100k timers, random whole-ms deadlines 0-100 ms, seed 42: CPU per timer and
//               lateness (wall >= 100 ms by design)
//   spawn       1M trivial tasks spawned (detached) from one callback, then run (ns per task)
//   idle        100k tasks, each started and suspended on one Event: RSS growth per task
//   idle_sleep  the anchor's idle job exactly: each task suspended on its own timer
//               (a Sleep that never ends), RSS growth per task
//
// DIVISOR (default 1) divides every n, for the smoke test (corio_micro_smoke) only.
// bench/run_micro_twins.sh runs this beside the anchors and prints medians and ratios.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "tasks/event.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace {

using Clock = std::chrono::steady_clock;

double NsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

double CpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

// Process CPU per op (user + system, page faults included): unlike wall time, hardly moved by
// other processes competing for the cores.
std::string CpuPerOp(double c0, long n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "cpu_ns_per_op=%.1f ", (CpuNs() - c0) / n);
  return buf;
}

long RssBytes() {  // current RSS, as the anchor reads it
  long pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

void Report(const char* test, long n, int pass, double ns, const std::string& extra = "") {
  std::printf("impl=corio test=%s n=%ld pass=%d ns_per_op=%.1f total_ms=%.1f %s\n", test, n, pass,
              ns / n, ns / 1e6, extra.c_str());
  std::fflush(stdout);
}

struct Chain {  // each callback posts the next one
  corio::EventLoop* loop;
  long* left;
  void operator()() const {
    if (--*left > 0) loop->CallSoon(*this);
  }
};

corio::Task<void> Noop(long* done) {
  ++*done;
  co_return;
}

corio::Task<void> WaitOn(corio::Event* e) { (void)co_await e->Wait(); }

corio::Task<void> SleepForever() { (void)co_await corio::Sleep(absl::Hours(24 * 365)); }

int Fail(const char* what) {
  std::fprintf(stderr, "corio_micro: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string test = argc > 1 ? argv[1] : "";
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  const long divisor = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  absl::StatusOr<std::unique_ptr<corio::EventLoop>> created = corio::EventLoop::Create();
  if (!created.ok()) return Fail("cannot create a loop");
  corio::EventLoop& loop = **created;

  if (test == "post_batch") {
    const long n = 1'000'000 / divisor;
    for (int pass = 1; pass <= passes; ++pass) {
      long done = 0;
      const double c0 = CpuNs();
      const auto t0 = Clock::now();
      loop.CallSoon([&] {
        for (long i = 0; i < n; ++i) loop.CallSoon([&done] { ++done; });
      });
      if (!loop.RunUntilIdle().ok()) return Fail("loop failed");
      Report("post_batch", n, pass, NsSince(t0), CpuPerOp(c0, n) + "check=" + std::to_string(done));
      if (done != n) return Fail("post_batch lost callbacks");
    }
  } else if (test == "post_chain") {
    const long n = 1'000'000 / divisor;
    for (int pass = 1; pass <= passes; ++pass) {
      long left = n;
      const double c0 = CpuNs();
      const auto t0 = Clock::now();
      loop.CallSoon(Chain{&loop, &left});
      if (!loop.RunUntilIdle().ok()) return Fail("loop failed");
      Report("post_chain", n, pass, NsSince(t0),
             CpuPerOp(c0, n) + "check=" + std::to_string(n - left));
      if (left != 0) return Fail("post_chain broke");
    }
  } else if (test == "timers") {
    const long n = 100'000 / divisor;
    for (int pass = 1; pass <= passes; ++pass) {
      std::mt19937 rng(42);
      std::uniform_int_distribution<int> ms(0, 100);
      double late_max = 0, late_sum = 0;
      long fired = 0;
      const double c0 = CpuNs();
      const auto t0 = Clock::now();
      for (long i = 0; i < n; ++i) {
        const absl::Time deadline = loop.Now() + absl::Milliseconds(ms(rng));
        loop.CallAt(deadline, [&, deadline] {
          const double late = absl::ToDoubleMilliseconds(loop.Now() - deadline);
          late_sum += late;
          late_max = std::max(late_max, late);
          ++fired;
        });
      }
      if (!loop.RunUntil([&] { return fired == n; }).ok()) return Fail("loop failed");
      const double wall = NsSince(t0), cpu = CpuNs() - c0;
      char extra[200];
      std::snprintf(extra, sizeof extra,
                    "cpu_ns_per_op=%.1f late_mean_ms=%.2f late_max_ms=%.2f check=%ld", cpu / n,
                    late_sum / n, late_max, fired);
      Report("timers", n, pass, wall, extra);
      if (fired != n || late_sum < 0) return Fail("timers fired early or not at all");
    }
  } else if (test == "spawn") {
    const long n = 1'000'000 / divisor;
    for (int pass = 1; pass <= passes; ++pass) {
      long done = 0;
      const double c0 = CpuNs();
      const auto t0 = Clock::now();
      loop.CallSoon([&] {
        for (long i = 0; i < n; ++i) corio::Spawn(loop, Noop(&done)).Detach();
      });
      if (!loop.RunUntilIdle().ok()) return Fail("loop failed");
      Report("spawn", n, pass, NsSince(t0), CpuPerOp(c0, n) + "check=" + std::to_string(done));
      if (done != n) return Fail("spawn lost tasks");
    }
  } else if (test == "idle") {
    const long n = 100'000 / divisor;
    corio::Event event;
    const long r0 = RssBytes();
    const auto t0 = Clock::now();
    loop.CallSoon([&] {
      for (long i = 0; i < n; ++i) corio::Spawn(loop, WaitOn(&event)).Detach();
    });
    if (!loop.RunUntilIdle().ok()) return Fail("loop failed");  // every task waits now
    const double ns = NsSince(t0);
    const long r1 = RssBytes();
    Report("idle", n, 1, ns,
           "bytes_per_idle=" + std::to_string((r1 - r0) / n) +
               " check=" + std::to_string(event.waiters()) + " (task frame + Event waiter)");
    if (event.waiters() != static_cast<size_t>(n)) return Fail("idle: not every task waits");
    loop.CallSoon([&] { event.Set(); });
    if (!loop.RunUntilIdle().ok()) return Fail("loop failed");
  } else if (test == "idle_sleep") {
    const long n = 100'000 / divisor;
    std::vector<corio::JoinHandle<void>> tasks;
    const long r0 = RssBytes();
    const auto t0 = Clock::now();
    loop.CallSoon([&] {
      for (long i = 0; i < n; ++i) tasks.push_back(corio::Spawn(loop, SleepForever()));
    });
    if (!loop.RunUntilIdle().ok()) return Fail("loop failed");  // every task sleeps now
    const double ns = NsSince(t0);
    const long r1 = RssBytes();
    Report("idle_sleep", n, 1, ns,
           "bytes_per_idle=" + std::to_string((r1 - r0) / n) + " (task frame + timer + handle)");
    if (tasks.size() != static_cast<size_t>(n)) return Fail("idle_sleep: tasks missing");
    loop.CallSoon([&] {
      for (corio::JoinHandle<void>& t : tasks) t.Cancel();
    });
    if (!loop.RunUntilIdle().ok()) return Fail("loop failed");
  } else {
    std::fprintf(stderr,
                 "usage: corio_micro post_batch|post_chain|timers|spawn|idle|idle_sleep "
                 "[PASSES [DIVISOR]]\n");
    return 2;
  }
  return 0;
}
