// Shield.
// The structured concurrency promise is checked directly: when the combinator returns, every
// task it started has finished (a log entry written on each task's way out is already there).
#include "tasks/shield.h"

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


TEST(ShieldTest, ShieldedTaskFinishesDespiteTheCallersCancellation) {
  std::vector<std::string> log;
  auto worker = [&]() -> Task<absl::Status> {
    absl::StatusOr<int> r = co_await Shield(Job(&log, "commit", 100, 7));
    log.push_back(r.ok() ? "shield ok" : "shield failed");
    absl::Status next = co_await Sleep(absl::Seconds(1));  // the cancel lands here
    log.push_back(next.ToString());
    co_return next;
  };
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<absl::Status> w = Spawn(worker());
    (void)co_await Sleep(absl::Milliseconds(10));
    w.Cancel();
    co_return co_await std::move(w);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(log, ElementsAre("commit done", "shield ok", HasSubstr("CANCELLED")));
}

}  // namespace
}  // namespace corio
