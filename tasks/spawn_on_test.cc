#include "tasks/spawn_on.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<LoopGroup> NewGroup(int threads) {
  LoopGroup::Options options;
  options.threads = threads;
  absl::StatusOr<std::unique_ptr<LoopGroup>> group = LoopGroup::Create(options);
  EXPECT_THAT(group, IsOk());
  return group.ok() ? *std::move(group) : nullptr;
}

// Where a piece of a task ran.
struct Seen {
  EventLoop* loop = nullptr;
  std::thread::id thread;
  void Record() {
    loop = EventLoop::Current();
    thread = std::this_thread::get_id();
  }
};

Task<absl::StatusOr<int>> Inner(Seen* seen, int value) {
  seen->Record();
  co_await Yield();
  co_return value;
}

Task<absl::StatusOr<int>> Outer(EventLoop* other, Seen* outer_before, Seen* inner,
                                Seen* outer_after) {
  outer_before->Record();
  absl::StatusOr<int> v = co_await SpawnOn(*other, Inner(inner, 41));
  outer_after->Record();
  if (!v.ok()) co_return v.status();
  co_return *v + 1;
}

TEST(SpawnOnTest, RunsOnTheTargetLoopAndResumesTheAwaiterOnItsOwn) {
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  Seen before, inner, after;
  RemoteHandle<absl::StatusOr<int>> h =
      SpawnOn(group->loop(0), Outer(&group->loop(1), &before, &inner, &after));
  EXPECT_THAT(std::move(h).Wait(), IsOkAndHolds(42));
  EXPECT_EQ(before.loop, &group->loop(0));
  EXPECT_EQ(inner.loop, &group->loop(1));
  EXPECT_EQ(after.loop, &group->loop(0));
  EXPECT_EQ(after.thread, before.thread);  // never resumed on the other loop's thread
  EXPECT_NE(inner.thread, before.thread);
}

TEST(SpawnOnTest, ResultTypesMapLikeSpawn) {
  std::unique_ptr<LoopGroup> group = NewGroup(1);
  EventLoop& loop = group->loop(0);
  EXPECT_THAT(SpawnOn(loop, []() -> Task<int> { co_return 7; }()).Wait(), IsOkAndHolds(7));
  EXPECT_THAT(SpawnOn(loop, []() -> Task<void> { co_return; }()).Wait(), IsOk());
  EXPECT_THAT(
      SpawnOn(loop, []() -> Task<absl::Status> { co_return absl::NotFoundError("x"); }()).Wait(),
      StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(SpawnOn(loop, []() -> Task<std::string> { co_return "moved"; }()).Wait(),
              IsOkAndHolds("moved"));
}

TEST(SpawnOnTest, ExceptionsAreRethrownWhereTheResultIsTaken) {
  std::unique_ptr<LoopGroup> group = NewGroup(1);
  RemoteHandle<int> h = SpawnOn(group->loop(0), []() -> Task<int> {
    throw std::runtime_error("boom");
    co_return 0;
  }());
  EXPECT_THROW(std::move(h).Wait(), std::runtime_error);
}

Task<absl::Status> SleepForever(std::atomic<int>* ended) {
  absl::Status s = co_await Sleep(absl::Hours(1));
  ended->fetch_add(1);
  co_return s;
}

TEST(SpawnOnTest, CancelFromAnotherThreadReachesTheTask) {
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  std::atomic<int> ended{0};
  std::atomic<bool> started{false};
  RemoteHandle<absl::Status> h =
      SpawnOn(group->loop(1),
              [](std::atomic<bool>* started, std::atomic<int>* ended) -> Task<absl::Status> {
                started->store(true);
                co_return co_await SleepForever(ended);
              }(&started, &ended));
  while (!started.load()) std::this_thread::yield();  // cancel a task that is running
  RemoteCanceller cancel = h.canceller();
  std::thread([cancel] { cancel.Cancel(); }).join();  // like a gRPC callback thread
  EXPECT_THAT(std::move(h).Wait(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(ended.load(), 1);
  cancel.Cancel();  // after the task finished: no effect
}

TEST(SpawnOnTest, CancelBeforeItStartsMeansTheBodyNeverRuns) {
  auto loop = EventLoop::Create().value();
  bool ran = false;
  RemoteHandle<absl::Status> h = SpawnOn(*loop, [](bool* ran) -> Task<absl::Status> {
    *ran = true;
    co_return absl::OkStatus();
  }(&ran));
  h.Cancel();
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(h.done());
  EXPECT_THAT(std::move(h).Wait(), StatusIs(absl::StatusCode::kCancelled, HasSubstr("before")));
  EXPECT_FALSE(ran);
}

Task<absl::Status> AwaitRemote(EventLoop* other, std::atomic<int>* ended,
                               std::vector<std::string>* log, std::mutex* mu) {
  absl::Status s = co_await SpawnOn(*other, SleepForever(ended));
  std::lock_guard<std::mutex> lock(*mu);
  log->push_back("outer resumed after " + std::to_string(ended->load()) + " inner ended");
  co_return s;
}

TEST(SpawnOnTest, CancellingTheAwaiterCancelsTheRemoteTaskAndWaitsForIt) {
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  std::atomic<int> ended{0};
  std::vector<std::string> log;
  std::mutex mu;
  RemoteHandle<absl::Status> outer =
      SpawnOn(group->loop(0), AwaitRemote(&group->loop(1), &ended, &log, &mu));
  outer.Cancel();
  EXPECT_THAT(std::move(outer).Wait(), StatusIs(absl::StatusCode::kCancelled));
  std::lock_guard<std::mutex> lock(mu);
  // Either the outer task was cancelled before it started (no log), or it awaited the inner
  // one until that finished.
  if (!log.empty()) {
    EXPECT_THAT(log, ::testing::ElementsAre("outer resumed after 1 inner ended"));
  }
}

TEST(SpawnOnTest, CancellingAnAwaiterThatIsAlreadyWaitingWaitsForTheRemoteTask) {
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  std::atomic<int> ended{0};
  std::atomic<bool> waiting{false};
  std::vector<std::string> log;
  std::mutex mu;
  RemoteHandle<absl::Status> outer = SpawnOn(
      group->loop(0),
      [](EventLoop* other, std::atomic<int>* ended, std::atomic<bool>* waiting,
         std::vector<std::string>* log, std::mutex* mu) -> Task<absl::Status> {
        RemoteHandle<absl::Status> inner = SpawnOn(
            *other, [](std::atomic<int>* ended, std::atomic<bool>* waiting) -> Task<absl::Status> {
              waiting->store(true);  // the inner task runs: cancelling reaches it mid-sleep
              co_return co_await SleepForever(ended);
            }(ended, waiting));
        absl::Status s = co_await std::move(inner);
        std::lock_guard<std::mutex> lock(*mu);
        log->push_back("ended=" + std::to_string(ended->load()));
        co_return s;
      }(&group->loop(1), &ended, &waiting, &log, &mu));
  while (!waiting.load()) std::this_thread::yield();
  outer.Cancel();
  EXPECT_THAT(std::move(outer).Wait(), StatusIs(absl::StatusCode::kCancelled));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(log, ::testing::ElementsAre("ended=1"));
}

TEST(SpawnOnTest, ALoopThatShutDownBeforeTheTaskStartedGivesUnavailable) {
  std::unique_ptr<LoopGroup> group = NewGroup(1);
  group->Shutdown(LoopGroup::kDrain);
  bool ran = false;
  RemoteHandle<absl::Status> h = SpawnOn(group->loop(0), [](bool* ran) -> Task<absl::Status> {
    *ran = true;
    co_return absl::OkStatus();
  }(&ran));
  EXPECT_THAT(std::move(h).Wait(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shut down before")));
  EXPECT_FALSE(ran);
}

TEST(SpawnOnTest, ALoopDestroyedBeforeTheTaskStartedGivesUnavailable) {
  auto loop = EventLoop::Create().value();
  RemoteHandle<absl::Status> h =
      SpawnOn(*loop, []() -> Task<absl::Status> { co_return absl::OkStatus(); }());
  loop.reset();
  EXPECT_THAT(std::move(h).Wait(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(SpawnOnTest, ALoopDestroyedWhileTheTaskWaitsGivesUnavailable) {
  auto loop = EventLoop::Create().value();
  std::atomic<int> ended{0};
  RemoteHandle<absl::Status> h = SpawnOn(*loop, SleepForever(&ended));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  loop.reset();  // the task's frame is destroyed with the loop
  EXPECT_THAT(std::move(h).Wait(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("destroyed")));
  EXPECT_EQ(ended.load(), 0);
}

TEST(SpawnOnTest, GroupShutdownCancelsARunningTask) {
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  std::atomic<bool> started{false};
  RemoteHandle<absl::Status> h =
      SpawnOn(group->loop(1), [](std::atomic<bool>* started) -> Task<absl::Status> {
        started->store(true);
        co_return co_await Sleep(absl::Hours(1));
      }(&started));
  while (!started.load()) std::this_thread::yield();
  group->Shutdown(LoopGroup::kCancel);
  EXPECT_THAT(std::move(h).Wait(), StatusIs(absl::StatusCode::kCancelled));
}

TEST(SpawnOnTest, DrainWaitsForAResultAnotherLoopWillPost) {
  // Loop 0 has nothing of its own pending while it awaits loop 1's task, and loop 1 nothing
  // at all until loop 0 starts a task there: the drain looks at the group as a whole, so
  // neither ends (nor cancels the outer task for idleness) while the other still works.
  std::unique_ptr<LoopGroup> group = NewGroup(2);
  RemoteHandle<absl::StatusOr<int>> h =
      SpawnOn(group->loop(0), [](EventLoop* other) -> Task<absl::StatusOr<int>> {
        co_return co_await SpawnOn(*other, []() -> Task<absl::StatusOr<int>> {
          CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(20)));
          co_return 7;
        }());
      }(&group->loop(1)));
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_THAT(std::move(h).Wait(), IsOkAndHolds(7));
}

TEST(SpawnOnTest, DetachedFailuresAreReportedOnTheTargetLoop) {
  auto loop = EventLoop::Create().value();
  std::vector<std::string> errors;
  loop->SetErrorHandler([&](const absl::Status& s) { errors.push_back(s.ToString()); });
  SpawnOn(*loop, []() -> Task<absl::Status> { co_return absl::DataLossError("lost"); }()).Detach();
  SpawnOn(*loop, []() -> Task<absl::Status> { co_return absl::CancelledError("quiet"); }())
      .Detach();
  RemoteHandle<absl::Status> late =
      SpawnOn(*loop, []() -> Task<absl::Status> { co_return absl::InternalError("late"); }());
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(late.done());
  late.Detach();  // done but never taken: reported too
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_THAT(errors, ::testing::UnorderedElementsAre(HasSubstr("lost"), HasSubstr("late")));
}

TEST(SpawnOnTest, AwaitingFromTheSameLoopWorks) {
  EXPECT_THAT(corio::testing::RunTask([]() -> Task<absl::StatusOr<int>> {
                co_return co_await SpawnOn(*EventLoop::Current(),
                                           []() -> Task<int> { co_return 5; }());
              }()),
              IsOkAndHolds(5));
}

// Many foreign threads start tasks on a group, cancel some of them at random moments, and
// either block on the results or hand them to tasks on other loops to await.
TEST(SpawnOnTest, StressAcrossALoopGroupFromManyThreads) {
  std::unique_ptr<LoopGroup> group = NewGroup(4);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> ok{0}, cancelled{0}, wrong_loop{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EventLoop& target = group->loop((t + i) % group->size());
        EventLoop& awaiter = group->loop((t + i + 1) % group->size());
        RemoteHandle<absl::StatusOr<int>> h =
            SpawnOn(awaiter,
                    [](EventLoop* target, std::atomic<int>* wrong_loop,
                       int i) -> Task<absl::StatusOr<int>> {
                      EventLoop* home = EventLoop::Current();
                      absl::StatusOr<int> r =
                          co_await SpawnOn(*target,
                                           [](int i, std::atomic<int>* wrong_loop,
                                              EventLoop* target) -> Task<absl::StatusOr<int>> {
                                             if (EventLoop::Current() != target)
                                               wrong_loop->fetch_add(1);
                                             for (int k = 0; k < i % 3; ++k)
                                               CORIO_CO_RETURN_IF_ERROR(co_await Yield());
                                             co_return i;
                                           }(i, wrong_loop, target));
                      if (EventLoop::Current() != home) wrong_loop->fetch_add(1);
                      co_return r;
                    }(&target, &wrong_loop, i));
        if (i % 5 == 0) h.Cancel();
        absl::StatusOr<int> r = std::move(h).Wait();
        if (r.ok()) {
          EXPECT_EQ(*r, i);
          ok.fetch_add(1);
        } else {
          EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
          cancelled.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(ok.load() + cancelled.load(), kThreads * kPerThread);
  EXPECT_GE(ok.load(), kThreads * kPerThread * 4 / 5);  // only every fifth was cancelled
  EXPECT_EQ(wrong_loop.load(), 0);
  group->Shutdown(LoopGroup::kDrain);
}

}  // namespace
}  // namespace corio
