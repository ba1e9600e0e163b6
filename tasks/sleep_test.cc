#include "tasks/sleep.h"

#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/run.h"
#include "tasks/spawn.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

TEST(SleepTest, SleepsInVirtualTimeInOrder) {
  std::vector<int> order;
  auto sleeper = [](std::vector<int>* order, int ms) -> Task<absl::Status> {
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(ms)));
    order->push_back(ms);
    co_return absl::OkStatus();
  };
  auto main = [&]() -> Task<absl::Status> {
    const absl::Time start = EventLoop::Current()->Now();
    JoinHandle<absl::Status> a = Spawn(sleeper(&order, 300));
    JoinHandle<absl::Status> b = Spawn(sleeper(&order, 100));
    JoinHandle<absl::Status> c = Spawn(sleeper(&order, 200));
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(a));
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(b));
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(c));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Milliseconds(300));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
  EXPECT_THAT(order, ElementsAre(100, 200, 300));
}

TEST(SleepTest, ZeroAndPastDeadlinesStillWaitForALaterTurn) {
  std::vector<int> order;
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<void> other = Spawn([](std::vector<int>* order) -> Task<void> {
      order->push_back(1);
      co_return;
    }(&order));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::ZeroDuration()));
    CORIO_CO_RETURN_IF_ERROR(co_await SleepUntil(absl::InfinitePast()));
    order.push_back(2);
    co_await std::move(other);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
  EXPECT_THAT(order, ElementsAre(1, 2));
}

TEST(SleepTest, RealClockSleepIsNeverEarly) {
  auto main = []() -> Task<absl::Duration> {
    const absl::Time start = EventLoop::Current()->Now();
    (void)co_await Sleep(absl::Milliseconds(3));
    co_return EventLoop::Current()->Now() - start;
  };
  absl::StatusOr<absl::Duration> took = testing::RunTaskRealTime(main());
  ASSERT_THAT(took, IsOk());
  EXPECT_GE(*took, absl::Milliseconds(3));
}

TEST(YieldTest, LetsOtherReadyTasksRunFirst) {
  std::vector<int> order;
  auto other = [](std::vector<int>* order) -> Task<void> {
    order->push_back(2);
    co_return;
  };
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<void> h = Spawn(other(&order));
    order.push_back(1);
    CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    order.push_back(3);
    co_return co_await std::move(h);
  };
  EXPECT_THAT(RunTask(main()), IsOk());
  EXPECT_THAT(order, ElementsAre(1, 2, 3));
}

TEST(SleepTest, CancelledTaskDoesNotSleep) {
  auto main = []() -> Task<absl::Status> {
    JoinHandle<absl::Status> h = Spawn([]() -> Task<absl::Status> {
      (void)co_await Yield();  // the cancel lands here
      co_return co_await Sleep(absl::Hours(1));
    }());
    CORIO_CO_RETURN_IF_ERROR(co_await Yield());  // h is inside its Yield now
    h.Cancel();
    const absl::Time start = EventLoop::Current()->Now();
    absl::Status s = co_await std::move(h);
    EXPECT_LT(EventLoop::Current()->Now() - start, absl::Hours(1));
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace corio
