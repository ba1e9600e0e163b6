// TaskGroup.
// The structured concurrency promise is checked directly: when the combinator returns, every
// task it started has finished (a log entry written on each task's way out is already there).
#include "tasks/task_group.h"

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::Job;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;


TEST(TaskGroupTest, AllSucceed) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    TaskGroup g;
    for (int i = 0; i < 5; ++i) g.Spawn(Job(&log, "j" + std::to_string(i), 10 * (5 - i), i));
    co_return co_await g.Wait();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
  EXPECT_EQ(log.size(), 5u);
}

TEST(TaskGroupTest, FirstFailureCancelsSiblingsIncludingLateSpawns) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    TaskGroup g;
    g.Spawn(Job(&log, "long", 10'000, 1));
    g.Spawn(Job(&log, "bad", 10, 0, absl::PermissionDeniedError("bad")));
    // A child that adds a sibling after the failure: the sibling is cancelled before its
    // first step, so its body never runs.
    g.Spawn([](TaskGroup* g, std::vector<std::string>* log) -> Task<absl::Status> {
      absl::Status slept = co_await Sleep(absl::Milliseconds(20));  // cancelled at 10 ms
      log->push_back("spawner: " + slept.ToString());
      g->Spawn([](std::vector<std::string>* log) -> Task<void> {
        log->push_back("late ran");
        co_return;
      }(log));
      co_return absl::OkStatus();
    }(&g, &log));
    absl::Status s = co_await g.Wait();
    EXPECT_EQ(g.running(), 0u);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(log,
              UnorderedElementsAre("bad done", "long cancelled", HasSubstr("spawner: CANCELLED")));
}

TEST(TaskGroupTest, CancelAndExceptions) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    TaskGroup g;
    g.Spawn(Job(&log, "a", 1000, 1));
    (void)co_await Sleep(absl::Milliseconds(1));
    g.Cancel();
    absl::Status s = co_await g.Wait();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    TaskGroup h;
    h.Spawn([]() -> Task<void> {
      throw std::runtime_error("child threw");
      co_return;
    }());
    bool threw = false;
    try {
      (void)co_await h.Wait();
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(TaskGroupTest, WaitReturnsCancelledWhenTheWaitingTaskWasCancelled) {
  auto main = []() -> Task<absl::Status> {
    JoinHandle<absl::Status> h = Spawn([]() -> Task<absl::Status> {
      TaskGroup g;
      g.Spawn([]() -> Task<void> {
        (void)co_await Sleep(absl::Hours(1));  // returns (void) when cancelled
      }());
      co_return co_await g.Wait();
    }());
    (void)co_await Sleep(absl::Seconds(1));
    h.Cancel();
    co_return co_await std::move(h);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace corio
