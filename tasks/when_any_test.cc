// WhenAny / AsCompleted.
// The structured concurrency promise is checked directly: when the combinator returns, every
// task it started has finished (a log entry written on each task's way out is already there).
#include "tasks/when_any.h"

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


TEST(WhenAnyTest, FirstToFinishWinsLosersAreCancelledAndAwaited) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    WhenAnyResult<absl::StatusOr<int>> first = co_await WhenAny(
        Job(&log, "slow", 100, 1), Job(&log, "fast", 5, 2), Job(&log, "mid", 50, 3));
    EXPECT_EQ(first.index, 1u);
    EXPECT_THAT(first.result, IsOkAndHolds(2));
    EXPECT_EQ(log.size(), 3u);  // the losers were waited for
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
  EXPECT_THAT(log, ElementsAre("fast done", HasSubstr("cancelled"), HasSubstr("cancelled")));
}

TEST(AsCompletedTest, YieldsInCompletionOrder) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<std::vector<size_t>> {
    std::vector<Task<absl::StatusOr<int>>> jobs;
    jobs.push_back(Job(&log, "a", 30, 1));
    jobs.push_back(Job(&log, "b", 10, 2));
    jobs.push_back(Job(&log, "c", 20, 3, absl::InternalError("c")));
    AsCompleted<absl::StatusOr<int>> results(std::move(jobs));
    std::vector<size_t> order;
    for (;;) {
      std::optional<WhenAnyResult<absl::StatusOr<int>>> next = co_await results.Next();
      if (!next.has_value()) break;
      order.push_back(next->index);
      if (next->index == 2) {
        EXPECT_THAT(next->result, StatusIs(absl::StatusCode::kInternal));
      }
    }
    EXPECT_EQ(results.remaining(), 0u);
    co_return order;
  };
  auto r = RunTask(main());
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(*r, ElementsAre(1u, 2u, 0u));
}

}  // namespace
}  // namespace corio
