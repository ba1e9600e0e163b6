#include "net/http/shared_limits.h"

#include <atomic>
#include <latch>
#include <string>

#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "net/http/internal/shared_limits_impl.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"

namespace corio::http {
namespace {

TEST(SharedLimitsTest, CreateClampsAndReports) {
  auto l = SharedLimits::Create(4, 2);
  EXPECT_EQ(l->limit(), 4);
  EXPECT_EQ(l->limit_per_host(), 2);
  EXPECT_EQ(l->in_use(), 0);
  EXPECT_EQ(SharedLimits::Create(0, -1)->limit(), 1);
  EXPECT_EQ(SharedLimits::Create(0, -1)->limit_per_host(), 0);
}

// Tasks on two loops take permits for two hosts: never more than 3 in all nor 2 per host.
struct Counters {
  std::atomic<int> total{0}, total_peak{0}, done{0};
  std::atomic<int> host[2] = {0, 0};
  std::atomic<int> host_peak[2] = {0, 0};
  std::latch* all_done = nullptr;
};

void Peak(std::atomic<int>& now, std::atomic<int>& peak) {
  const int n = ++now;
  int p = peak.load();
  while (n > p && !peak.compare_exchange_weak(p, n)) {
  }
}

Task<void> Worker(http_internal::SharedLimitsImpl* limits, Counters* c, int which, int rounds) {
  const std::string key = which == 0 ? "http://a:80" : "http://b:80";
  for (int i = 0; i < rounds; ++i) {
    absl::Status s = co_await limits->Acquire(key);
    EXPECT_TRUE(s.ok()) << s;
    Peak(c->total, c->total_peak);
    Peak(c->host[which], c->host_peak[which]);
    (void)co_await Yield();
    --c->host[which];
    --c->total;
    limits->Release(key);
  }
  ++c->done;
  c->all_done->count_down();
}

TEST(SharedLimitsTest, TotalAndPerHostHoldAcrossLoops) {
  http_internal::SharedLimitsImpl limits(3, 2);
  Counters c;
  constexpr int kTasksPerLoop = 8;
  std::latch latch(2 * kTasksPerLoop);
  c.all_done = &latch;
  auto group = LoopGroup::Create(LoopGroup::Options{.threads = 2}).value();
  for (size_t l = 0; l < group->size(); ++l) {
    for (int t = 0; t < kTasksPerLoop; ++t) {
      group->loop(l).CallSoonThreadSafe(
          [&limits, &c, t] { Spawn(Worker(&limits, &c, t % 2, 200)).Detach(); });
    }
  }
  latch.wait();  // waiters blocked on another loop are not "pending work" a drain waits for
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(c.done.load(), 2 * kTasksPerLoop);
  EXPECT_LE(c.total_peak.load(), 3);
  EXPECT_LE(c.host_peak[0].load(), 2);
  EXPECT_LE(c.host_peak[1].load(), 2);
  EXPECT_GE(c.total_peak.load(), 1);
  EXPECT_EQ(limits.in_use(), 0);
}

Task<void> CancelledWaiter(http_internal::SharedLimitsImpl* limits, bool* ok) {
  absl::Status first = co_await limits->Acquire("http://a:80");  // the only permit for a
  JoinHandle<absl::Status> waiter = Spawn(limits->Acquire("http://a:80"));
  (void)co_await Yield();
  waiter.Cancel();
  absl::Status w = co_await std::move(waiter);
  const int held = limits->in_use();
  limits->Release("http://a:80");
  *ok = first.ok() && absl::IsCancelled(w) && held == 1 && limits->in_use() == 0;
}

TEST(SharedLimitsTest, CancelledWaiterLeavesTheQueue) {
  http_internal::SharedLimitsImpl limits(4, 1);
  bool ok = false;
  EXPECT_TRUE(corio::Run(CancelledWaiter(&limits, &ok)).ok());
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace corio::http
