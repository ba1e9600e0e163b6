// Gather / GatherSettled.
// The structured concurrency promise is checked directly: when the combinator returns, every
// task it started has finished (a log entry written on each task's way out is already there).
#include "tasks/gather.h"

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


TEST(GatherTest, VariadicResultsInOrderOfArguments) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::StatusOr<std::tuple<int, int, std::monostate>>> {
    co_return co_await Gather(Job(&log, "slow", 30, 1), Job(&log, "fast", 10, 2),
                              []() -> Task<void> { co_return; }());
  };
  auto r = RunTask(main());  // StatusOr<tuple>: ResultOf does not nest StatusOr
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(std::get<0>(*r), 1);
  EXPECT_EQ(std::get<1>(*r), 2);
  EXPECT_THAT(log, ElementsAre("fast done", "slow done"));
}

TEST(GatherTest, FirstFailureCancelsTheRestAndWaitsForThem) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    std::vector<Task<absl::StatusOr<int>>> jobs;
    jobs.push_back(Job(&log, "a", 1000, 1));
    jobs.push_back(Job(&log, "b", 10, 2, absl::UnavailableError("b broke")));
    jobs.push_back(Job(&log, "c", 1000, 3));
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<std::vector<int>> r = co_await Gather(std::move(jobs));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Milliseconds(10));  // fail fast
    EXPECT_EQ(log.size(), 3u);  // everyone finished before Gather returned
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kUnavailable, "b broke"));
  EXPECT_THAT(log, UnorderedElementsAre("b done", "a cancelled", "c cancelled"));
}

TEST(GatherTest, ExceptionsAreRethrownAfterEveryTaskFinished) {
  std::vector<std::string> log;
  auto thrower = []() -> Task<absl::StatusOr<int>> {
    throw std::runtime_error("kaboom");
    co_return 0;
  };
  auto main = [&]() -> Task<absl::Status> {
    std::vector<Task<absl::StatusOr<int>>> jobs;
    jobs.push_back(Job(&log, "a", 1000, 1));
    jobs.push_back(thrower());
    try {
      (void)co_await Gather(std::move(jobs));
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(log, ElementsAre("a cancelled"));
      co_return absl::AbortedError(e.what());
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kAborted, "kaboom"));
}

TEST(GatherTest, SettledCollectsEveryOutcome) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<std::vector<absl::StatusOr<int>>> {
    std::vector<Task<absl::StatusOr<int>>> jobs;
    jobs.push_back(Job(&log, "a", 30, 1));
    jobs.push_back(Job(&log, "b", 10, 0, absl::NotFoundError("b")));
    jobs.push_back([]() -> Task<absl::StatusOr<int>> {
      throw std::logic_error("c threw");
      co_return 0;
    }());
    co_return co_await GatherSettled(std::move(jobs));
  };
  auto r = RunTask(main());
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_THAT((*r)[0], IsOkAndHolds(1));  // not cancelled by b's failure
  EXPECT_THAT((*r)[1], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*r)[2], StatusIs(absl::StatusCode::kUnknown, HasSubstr("c threw")));
}

TEST(GatherTest, CancellingTheAwaiterCancelsEveryTaskAndWaits) {
  std::vector<std::string> log;
  auto gatherer = [&]() -> Task<absl::Status> {
    absl::StatusOr<std::tuple<int, int>> r =
        co_await Gather(Job(&log, "a", 1000, 1), Job(&log, "b", 1000, 2));
    log.push_back("gather returned");
    co_return r.status();
  };
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<absl::Status> g = Spawn(gatherer());
    (void)co_await Sleep(absl::Milliseconds(10));
    g.Cancel();
    co_return co_await std::move(g);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(log, ElementsAre(HasSubstr("cancelled"), HasSubstr("cancelled"), "gather returned"));
}

}  // namespace
}  // namespace corio
