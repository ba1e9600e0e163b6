// Gather, GatherSettled, WhenAny, AsCompleted, WithTimeout, Shield, TaskGroup. The structured
// concurrency promise is checked directly: when the combinator returns, every task it started
// has finished (a log entry written on each task's way out is already there).
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/event.h"
#include "tasks/gather.h"
#include "tasks/run.h"
#include "tasks/shield.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/task_group.h"
#include "tasks/when_any.h"
#include "tasks/with_timeout.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Sleeps `ms`, then returns `value` (or fails with `error` if it is not OK); logs how it
// ended, on every path.
Task<absl::StatusOr<int>> Job(std::vector<std::string>* log, std::string name, int ms, int value,
                              absl::Status error = absl::OkStatus()) {
  absl::Status slept = co_await Sleep(absl::Milliseconds(ms));
  if (!slept.ok()) {
    log->push_back(name + " cancelled");
    co_return slept;
  }
  log->push_back(name + " done");
  if (!error.ok()) co_return error;
  co_return value;
}

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
