#include "tasks/spawn.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

Task<int> Value(int v) { co_return v; }

Task<void> Append(std::vector<std::string>* log, std::string s) {
  log->push_back(s);
  co_return;
}

TEST(SpawnTest, SpawnedTasksStartOnALaterTurnAndJoinWithTheirResult) {
  std::vector<std::string> log;
  auto main = [](std::vector<std::string>* log) -> Task<int> {
    JoinHandle<void> a = Spawn(Append(log, "child"));
    log->push_back("parent");  // Spawn did not run the child inline
    absl::Status joined = co_await std::move(a);
    EXPECT_THAT(joined, IsOk());
    absl::StatusOr<int> v = co_await Spawn(Value(5));
    co_return v.value_or(-1);
  };
  EXPECT_THAT(RunTask(main(&log)), IsOkAndHolds(5));
  EXPECT_THAT(log, ElementsAre("parent", "child"));
}

TEST(SpawnTest, ResultTypesMapToStatusValues) {
  auto main = []() -> Task<absl::Status> {
    absl::StatusOr<int> a = co_await Spawn(Value(1));  // int -> StatusOr<int>
    EXPECT_THAT(a, IsOkAndHolds(1));
    absl::Status b =
        co_await Spawn([]() -> Task<absl::Status> { co_return absl::NotFoundError("nope"); }());
    EXPECT_THAT(b, StatusIs(absl::StatusCode::kNotFound));
    absl::StatusOr<std::string> c =
        co_await Spawn([]() -> Task<absl::StatusOr<std::string>> { co_return std::string("x"); }());
    EXPECT_THAT(c, IsOkAndHolds("x"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SpawnTest, CancelledBeforeItStartsTheBodyNeverRuns) {
  bool ran = false;
  auto body = [](bool* ran) -> Task<int> {
    *ran = true;
    co_return 1;
  };
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<int> h = Spawn(body(&ran));
    h.Cancel();
    absl::StatusOr<int> r = co_await std::move(h);
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("before it started")));
  EXPECT_FALSE(ran);
}

Task<absl::Status> SleepingTask(absl::Duration d) { co_return co_await Sleep(d); }

TEST(SpawnTest, CancelWakesASleepingTaskWithCancelled) {
  auto main = []() -> Task<absl::Status> {
    JoinHandle<absl::Status> h = Spawn(SleepingTask(absl::Hours(1)));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
    h.Cancel();
    h.Cancel();  // idempotent
    co_return co_await std::move(h);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST(SpawnTest, CancellingAParentCancelsTheChildItAwaitsAndWaitsForIt) {
  std::vector<std::string> log;
  auto child = [](std::vector<std::string>* log) -> Task<absl::Status> {
    absl::Status s = co_await Sleep(absl::Hours(1));
    log->push_back("child: " + s.ToString());
    co_return s;
  };
  auto parent = [&](std::vector<std::string>* log) -> Task<absl::Status> {
    absl::Status s = co_await Spawn(child(log));
    log->push_back("parent resumed");
    co_return s;
  };
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<absl::Status> p = Spawn(parent(&log));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
    p.Cancel();
    co_return co_await std::move(p);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(log, ElementsAre(HasSubstr("child: CANCELLED"), "parent resumed"));
}

TEST(SpawnTest, CancellationIsStickyForFutureSuspensionPoints) {
  auto stubborn = []() -> Task<int> {
    int cancelled = 0;
    for (int i = 0; i < 3; ++i) {
      absl::Status slept = co_await Sleep(absl::Hours(1));
      if (absl::IsCancelled(slept)) ++cancelled;
    }
    absl::Status yielded = co_await Yield();
    if (absl::IsCancelled(yielded)) ++cancelled;
    co_return cancelled;
  };
  auto main = [&]() -> Task<absl::StatusOr<int>> {
    JoinHandle<int> h = Spawn(stubborn());
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
    h.Cancel();
    co_return co_await std::move(h);
  };
  absl::StatusOr<absl::StatusOr<int>> r = RunTask(main());
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(*r, IsOkAndHolds(4));
}

TEST(SpawnTest, DetachedFailuresAreReportedButCancellationIsNot) {
  testing::VirtualClock clock;
  EventLoop::Options options;
  options.clock = &clock;
  auto loop = EventLoop::Create(std::move(options)).value();
  std::vector<absl::Status> errors;
  loop->SetErrorHandler([&](const absl::Status& s) { errors.push_back(s); });
  auto main = []() -> Task<void> {
    Spawn([]() -> Task<absl::Status> { co_return absl::InternalError("lost"); }()).Detach();
    {
      JoinHandle<void> dropped = Spawn([]() -> Task<void> {
        throw std::logic_error("escaped");
        co_return;
      }());
    }  // destroying the handle detaches the task
    JoinHandle<absl::Status> sleeper = Spawn(SleepingTask(absl::Hours(1)));
    sleeper.Cancel();
    sleeper.Detach();
    co_await Sleep(absl::Seconds(1));
  };
  EXPECT_THAT(corio::Run(*loop, main()), IsOk());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[0], StatusIs(absl::StatusCode::kInternal, "lost"));
  EXPECT_THAT(errors[1], StatusIs(absl::StatusCode::kUnknown, HasSubstr("logic_error: escaped")));
}

}  // namespace
}  // namespace corio
