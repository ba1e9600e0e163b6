// WithTimeout / WithDeadline.
// The structured concurrency promise is checked directly: when the combinator returns, every
// task it started has finished (a log entry written on each task's way out is already there).
#include "tasks/with_timeout.h"

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/event.h"
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


TEST(WithTimeoutTest, ExpiryCancelsWaitsAndReportsDeadlineExceeded) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<int> r = co_await WithTimeout(absl::Seconds(5), Job(&log, "dns", 60'000, 1));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(5));
    EXPECT_THAT(log, ElementsAre("dns cancelled"));  // stopped before we got here
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kDeadlineExceeded, "timed out after 5s"));
}

TEST(WithTimeoutTest, InTimeResultsPassThroughAndTheTimerIsGone) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::StatusOr<int>> {
    absl::StatusOr<int> r = co_await WithTimeout(absl::Seconds(5), Job(&log, "ok", 10, 42));
    EXPECT_EQ(EventLoop::Current()->timer_count(), 0u);
    co_return r;
  };
  EXPECT_THAT(RunTask(main()), IsOkAndHolds(42));
}

TEST(WithTimeoutTest, DeadlineVariantAndNestedTimeouts) {
  std::vector<std::string> log;
  auto main = [&]() -> Task<absl::Status> {
    const absl::Time deadline = EventLoop::Current()->Now() + absl::Seconds(1);
    // The inner, shorter timeout fires first and is reported by the inner call.
    absl::StatusOr<int> outer = co_await WithDeadline(
        deadline, WithTimeout(absl::Milliseconds(100), Job(&log, "x", 10'000, 1)));
    co_return outer.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "timed out after 100ms"));
}

struct TimerProbe {
  EventLoop* loop = nullptr;
  size_t* timers_after = nullptr;
  ~TimerProbe() { *timers_after = loop->timer_count(); }
};

TEST(WithTimeoutTest, TheTimerIsCancelledWhenTheFrameIsDestroyedWhileWaiting) {
  size_t timers_after = 99;
  Event never;
  {
    auto loop = EventLoop::Create().value();
    loop->Local<TimerProbe>() =
        TimerProbe{loop.get(), &timers_after};  // destroyed after the registry
    Spawn(*loop,
          [](Event* e) -> Task<absl::Status> {
            co_return co_await WithTimeout(absl::Hours(1), [](Event* e) -> Task<absl::Status> {
              co_return co_await e->Wait();
            }(e));
          }(&never))
        .Detach();
    ASSERT_THAT(loop->RunUntilIdle(), IsOk());
    ASSERT_EQ(loop->timer_count(), 1u);
  }
  EXPECT_EQ(timers_after, 0u) << "WithTimeout's timer outlived its frame";
}

}  // namespace
}  // namespace corio
