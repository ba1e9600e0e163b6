// RunTask / RunTaskRealTime: results and errors come through; RunTask's clock is virtual, so
// an hour of sleeping costs nothing and shows on the loop's clock.
#include "testing/run_task.h"

#include <string>

#include "gtest/gtest.h"
#include "tasks/sleep.h"

namespace corio::testing {
namespace {

TEST(RunTaskTest, ReturnsTheResultOnVirtualTime) {
  auto main = []() -> Task<absl::StatusOr<absl::Duration>> {
    const absl::Time start = EventLoop::Current()->Now();
    absl::Status slept = co_await Sleep(absl::Hours(1));
    if (!slept.ok()) co_return slept;
    co_return EventLoop::Current()->Now() - start;
  };
  absl::StatusOr<absl::Duration> took = RunTask(main());
  ASSERT_TRUE(took.ok()) << took.status();
  EXPECT_EQ(*took, absl::Hours(1));
}

TEST(RunTaskTest, ErrorsComeThrough) {
  auto main = []() -> Task<absl::Status> { co_return absl::NotFoundError("nothing here"); };
  EXPECT_EQ(RunTask(main()), absl::NotFoundError("nothing here"));
}

TEST(RunTaskTest, RealTimeRunsOnTheSystemClock) {
  auto main = []() -> Task<absl::StatusOr<std::string>> {
    absl::Status slept = co_await Sleep(absl::Milliseconds(1));
    if (!slept.ok()) co_return slept;
    co_return std::string("done");
  };
  absl::StatusOr<std::string> r = RunTaskRealTime(main());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "done");
}

}  // namespace
}  // namespace corio::testing
