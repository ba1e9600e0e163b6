// The jobs of ../shared/bench/micro/asio_micro.cpp (Boost.Asio, single-threaded io_context,
// C++20 coroutines), repeated PASSES times on one io_context, so that Asio gets the same warm
// figure corio's Google Benchmark loops report (pass 1 is the fresh figure; it should match
// the anchor's). Built with g++ by bench/run_micro_twins.sh, not by Bazel.
//   asio_micro_warm TEST PASSES     TEST = post_batch | post_chain | timers | spawn
// One line per pass: impl=asio test=... n=... pass=K ns_per_op=... (+ test specific fields).
#include <sys/resource.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

static double NsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}
static double CpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}
static std::string CpuPerOp(double c0, long n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "cpu_ns_per_op=%.1f ", (CpuNs() - c0) / n);
  return buf;
}
static void Report(const char* test, long n, int pass, double ns, const std::string& extra) {
  std::printf("impl=asio test=%s n=%ld pass=%d ns_per_op=%.1f total_ms=%.1f %s\n", test, n, pass,
              ns / n, ns / 1e6, extra.c_str());
  std::fflush(stdout);
}

struct Chain {
  asio::io_context* ioc;
  long* left;
  void operator()() const {
    if (--*left > 0) asio::post(*ioc, *this);
  }
};

static asio::awaitable<void> Noop(long* done) {
  ++*done;
  co_return;
}

int main(int argc, char** argv) {
  const std::string test = argc > 1 ? argv[1] : "";
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  asio::io_context ioc{1};
  for (int pass = 1; pass <= passes; ++pass) {
    ioc.restart();
    if (test == "post_batch") {
      const long n = 1'000'000;
      long done = 0;
      const double c0 = CpuNs();
      auto t0 = Clock::now();
      asio::post(ioc, [&] {
        for (long i = 0; i < n; ++i) asio::post(ioc, [&done] { ++done; });
      });
      ioc.run();
      Report("post_batch", n, pass, NsSince(t0), CpuPerOp(c0, n) + "check=" + std::to_string(done));
    } else if (test == "post_chain") {
      const long n = 1'000'000;
      long left = n;
      const double c0 = CpuNs();
      auto t0 = Clock::now();
      asio::post(ioc, Chain{&ioc, &left});
      ioc.run();
      Report("post_chain", n, pass, NsSince(t0),
             CpuPerOp(c0, n) + "check=" + std::to_string(n - left));
    } else if (test == "timers") {
      const long n = 100'000;
      std::mt19937 rng(42);
      std::uniform_int_distribution<int> ms(0, 100);
      std::deque<asio::steady_timer> timers;
      double late_max = 0, late_sum = 0;
      long fired = 0;
      const double c0 = CpuNs();
      auto t0 = Clock::now();
      for (long i = 0; i < n; ++i) {
        auto& t = timers.emplace_back(ioc, std::chrono::milliseconds(ms(rng)));
        t.async_wait([&, deadline = t.expiry()](boost::system::error_code) {
          double late = std::chrono::duration<double, std::milli>(Clock::now() - deadline).count();
          late_sum += late;
          late_max = std::max(late_max, late);
          ++fired;
        });
      }
      ioc.run();
      const double wall = NsSince(t0), cpu = CpuNs() - c0;
      char extra[200];
      std::snprintf(extra, sizeof extra,
                    "cpu_ns_per_op=%.1f late_mean_ms=%.2f late_max_ms=%.2f check=%ld", cpu / n,
                    late_sum / n, late_max, fired);
      Report("timers", n, pass, wall, extra);
    } else if (test == "spawn") {
      const long n = 1'000'000;
      long done = 0;
      const double c0 = CpuNs();
      auto t0 = Clock::now();
      asio::post(ioc, [&] {
        for (long i = 0; i < n; ++i) asio::co_spawn(ioc, Noop(&done), asio::detached);
      });
      ioc.run();
      Report("spawn", n, pass, NsSince(t0), CpuPerOp(c0, n) + "check=" + std::to_string(done));
    } else {
      std::fprintf(stderr, "usage: asio_micro_warm post_batch|post_chain|timers|spawn PASSES\n");
      return 2;
    }
  }
  return 0;
}
