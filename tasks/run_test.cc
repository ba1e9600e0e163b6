#include "tasks/run.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/event.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/virtual_clock.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Task<void> HoldForever(std::shared_ptr<int> token) {
  while (true) {
    absl::Status slept = co_await Sleep(absl::Hours(24));
    if (!slept.ok()) co_return;
  }
}

TEST(RunTest, CancelsAndDrainsTasksLeftRunningAndFreesThem) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  auto main = [](std::shared_ptr<int> token) -> Task<int> {
    for (int i = 0; i < 10; ++i) Spawn(HoldForever(token)).Detach();
    JoinHandle<void> kept = Spawn(HoldForever(token));  // not awaited: detached at scope end
    co_return 3;
  };
  EXPECT_THAT(RunTask(main(std::move(token))), IsOkAndHolds(3));
  EXPECT_TRUE(weak.expired());
}

// A task left waiting on a primitive (not a timer) when the main task ends: Run cancels it
// while its loop runs, so the waiter is rescheduled on that loop (it used to be cancelled
// before the loop ran again, with no current loop to reschedule on: a null dereference).
Task<void> WaitForever(std::shared_ptr<Event> event) {
  absl::Status s = co_await event->Wait();
  (void)s;
}

TEST(RunTest, CancelsTasksLeftWaitingOnAPrimitive) {
  auto event = std::make_shared<Event>();
  auto main = [](std::shared_ptr<Event> event) -> Task<int> {
    Spawn(WaitForever(event)).Detach();
    co_await Yield();  // let it start waiting
    co_return 4;
  };
  EXPECT_THAT(RunTask(main(event)), IsOkAndHolds(4));
}

TEST(RunTest, RefusesToRunInsideARunningLoop) {
  auto inner = []() -> Task<int> { co_return 1; };
  auto main = [&]() -> Task<absl::Status> {
    absl::StatusOr<int> r = corio::Run(inner());
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(RunTest, ExceptionsFromTheMainTaskPropagate) {
  auto main = []() -> Task<int> {
    throw std::out_of_range("main");
    co_return 0;
  };
  EXPECT_THROW((void)RunTask(main()), std::out_of_range);
}

}  // namespace
}  // namespace corio
