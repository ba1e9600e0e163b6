// Mutex: exclusion, FIFO hand-off, cancellation while queued and after the hand-off.
#include "tasks/mutex.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

Task<absl::Status> Increment(Mutex* mu, int* counter, std::vector<int>* order, int id) {
  CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
  order->push_back(id);
  const int seen = *counter;
  CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(1)));  // others run meanwhile
  *counter = seen + 1;
  co_return absl::OkStatus();
}

TEST(MutexTest, ExcludesAndIsFifo) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    int counter = 0;
    std::vector<int> order;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 5; ++i) hs.push_back(Spawn(Increment(&mu, &counter, &order, i)));
    for (auto& h : hs) CORIO_CO_RETURN_IF_ERROR(co_await std::move(h));
    EXPECT_EQ(counter, 5);  // no lost update: the sleeps happened inside the lock
    EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
    EXPECT_FALSE(mu.is_locked());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MutexTest, CancelWhileQueuedAndCancelAfterHandOff) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    EXPECT_TRUE(mu.TryLock());
    EXPECT_FALSE(mu.TryLock());
    auto locker = [](Mutex* mu, bool* got) -> Task<absl::Status> {
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
      *got = true;
      co_return absl::OkStatus();
    };
    bool got_a = false, got_b = false;
    JoinHandle<absl::Status> a = Spawn(locker(&mu, &got_a));
    JoinHandle<absl::Status> b = Spawn(locker(&mu, &got_b));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();  // queued: leaves the queue without the lock
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_FALSE(got_a);
    mu.Unlock();  // hands the lock to b...
    b.Cancel();   // ...which is cancelled after the hand-off: it still owns it
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_TRUE(got_b);
    EXPECT_FALSE(mu.is_locked());  // b's MutexLock released it
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

Task<absl::Status> LockOne(Mutex* mu) {
  absl::StatusOr<MutexLock> l = co_await mu->Lock();
  co_return l.status();
}

TEST(MutexTest, HandOffWhileTheLoopIsStoppedWakesOnTheWaitersLoop) {
  auto loop = EventLoop::Create().value();
  Mutex mu;
  ASSERT_TRUE(mu.TryLock());
  JoinHandle<absl::Status> a = Spawn(*loop, LockOne(&mu));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  mu.Unlock();
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(a.done());
  EXPECT_THAT(std::move(a).TakeResult(), IsOk());
}

}  // namespace
}  // namespace corio
