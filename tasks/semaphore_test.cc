// Semaphore / BoundedSemaphore: bounds, FIFO hand-off; a cancelled waiter never takes a permit
// and never loses one it was given.
#include "tasks/semaphore.h"

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

Task<absl::Status> UseSlot(Semaphore* sem, int* active, int* peak) {
  CORIO_CO_RETURN_IF_ERROR(co_await sem->Acquire());
  ++*active;
  *peak = std::max(*peak, *active);
  absl::Status s = co_await Sleep(absl::Milliseconds(10));
  --*active;
  sem->Release();
  co_return s;
}

TEST(SemaphoreTest, BoundsConcurrency) {
  auto main = []() -> Task<absl::Status> {
    Semaphore sem(3);
    int active = 0, peak = 0;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 20; ++i) hs.push_back(Spawn(UseSlot(&sem, &active, &peak)));
    for (auto& h : hs) CORIO_CO_RETURN_IF_ERROR(co_await std::move(h));
    EXPECT_EQ(peak, 3);
    EXPECT_EQ(sem.available(), 3);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SemaphoreTest, CancelledWaitersNeverTakeOrLosePermits) {
  auto main = []() -> Task<absl::Status> {
    Semaphore sem(0);
    auto acquire = [](Semaphore* s) -> Task<absl::Status> { co_return co_await s->Acquire(); };
    JoinHandle<absl::Status> a = Spawn(acquire(&sem));
    JoinHandle<absl::Status> b = Spawn(acquire(&sem));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    sem.Release();  // to b (a left the queue)
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_EQ(sem.available(), 0);  // b holds it
    sem.Release();
    EXPECT_EQ(sem.available(), 1);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SemaphoreTest, BoundedSemaphoreRefusesExtraReleases) {
  auto main = []() -> Task<absl::Status> {
    BoundedSemaphore sem(1);
    CORIO_CO_RETURN_IF_ERROR(co_await sem.Acquire());
    EXPECT_THAT(sem.Release(), IsOk());
    EXPECT_THAT(sem.Release(), StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

Task<absl::Status> AcquireOne(Semaphore* s) { co_return co_await s->Acquire(); }

TEST(SemaphoreTest, HandOffWhileTheLoopIsStoppedWakesOnTheWaitersLoop) {
  auto loop = EventLoop::Create().value();
  Semaphore sem(0);
  JoinHandle<absl::Status> a = Spawn(*loop, AcquireOne(&sem));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  sem.Release();
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(a.done());
  EXPECT_THAT(std::move(a).TakeResult(), IsOk());
}

}  // namespace
}  // namespace corio
