#include "net/http/shared_limits.h"

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

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
}

// Two loops hammer one SharedSemaphore of 3 permits: never more than 3 holders
// at once, and every acquire eventually succeeds.
std::atomic<int> holders{0}, peak{0}, done_count{0};
std::latch* all_done = nullptr;

Task<void> Worker(http_internal::SharedSemaphore* sem, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    absl::Status s = co_await sem->Acquire();
    EXPECT_TRUE(s.ok()) << s;
    int now = ++holders;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    (void)co_await Yield();
    --holders;
    sem->Release();
  }
  ++done_count;
  all_done->count_down();
}

TEST(SharedLimitsTest, SemaphoreBoundsHoldersAcrossLoops) {
  http_internal::SharedSemaphore sem(3);
  auto group = LoopGroup::Create(LoopGroup::Options{.threads = 2}).value();
  constexpr int kTasksPerLoop = 8;
  std::latch latch(2 * kTasksPerLoop);
  all_done = &latch;
  for (size_t l = 0; l < group->size(); ++l) {
    for (int t = 0; t < kTasksPerLoop; ++t) {
      group->loop(l).CallSoonThreadSafe([&sem] { Spawn(Worker(&sem, 200)).Detach(); });
    }
  }
  latch.wait();  // waiters blocked on another loop are not "pending work" a drain waits for
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(done_count.load(), 2 * kTasksPerLoop);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 1);
  EXPECT_EQ(sem.available(), 3);
}

Task<void> CancelledWaiter(http_internal::SharedSemaphore* sem, bool* ok) {
  absl::Status first = co_await sem->Acquire();  // takes the only permit
  JoinHandle<absl::Status> waiter = Spawn(sem->Acquire());
  (void)co_await Yield();
  waiter.Cancel();
  absl::Status w = co_await std::move(waiter);
  sem->Release();
  *ok = first.ok() && absl::IsCancelled(w) && sem->available() == 1;
}

TEST(SharedLimitsTest, CancelledWaiterLeavesTheQueue) {
  http_internal::SharedSemaphore sem(1);
  bool ok = false;
  EXPECT_TRUE(corio::Run(CancelledWaiter(&sem, &ok)).ok());
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace corio::http
