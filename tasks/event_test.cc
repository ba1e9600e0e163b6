// Event: wakes every waiter, FIFO; cancellation; waking needs no running loop.
#include "tasks/event.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

Task<absl::Status> WaitAndLog(Event* e, std::vector<int>* log, int id) {
  CORIO_CO_RETURN_IF_ERROR(co_await e->Wait());
  log->push_back(id);
  co_return absl::OkStatus();
}

TEST(EventTest, SetWakesEveryWaiterInFifoOrder) {
  auto main = []() -> Task<std::vector<int>> {
    Event e;
    std::vector<int> log;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(Spawn(WaitAndLog(&e, &log, i)));
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_EQ(e.waiters(), 3u);
    EXPECT_TRUE(log.empty());
    e.Set();
    for (auto& h : hs) {
      absl::Status s = co_await std::move(h);
      EXPECT_THAT(s, IsOk());
    }
    absl::Status again = co_await e.Wait();  // already set: no suspension
    EXPECT_THAT(again, IsOk());
    e.Clear();
    EXPECT_FALSE(e.is_set());
    co_return log;
  };
  absl::StatusOr<std::vector<int>> log = RunTask(main());
  ASSERT_THAT(log, IsOk());
  EXPECT_THAT(*log, ElementsAre(0, 1, 2));
}

TEST(EventTest, CancelledWaiterLeavesAndOthersStillWake) {
  auto main = []() -> Task<absl::Status> {
    Event e;
    std::vector<int> log;
    JoinHandle<absl::Status> a = Spawn(WaitAndLog(&e, &log, 1));
    JoinHandle<absl::Status> b = Spawn(WaitAndLog(&e, &log, 2));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_EQ(e.waiters(), 1u);
    e.Set();
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_THAT(log, ElementsAre(2));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(EventTest, DestroyedEventWakesItsWaitersWithCancelled) {
  auto main = []() -> Task<absl::Status> {
    auto e = std::make_unique<Event>();
    std::vector<int> log;
    JoinHandle<absl::Status> a = Spawn(WaitAndLog(e.get(), &log, 1));
    (void)co_await Sleep(absl::Seconds(1));
    e.reset();
    co_return co_await std::move(a);
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

// Waking needs no running loop: a waiter resumes on its own loop, running or not (issue 10 #5).
Task<absl::Status> WaitEvent(Event* e, int* woke) {
  absl::Status s = co_await e->Wait();
  if (s.ok()) ++*woke;
  co_return s;
}

TEST(EventTest, SetWhileTheLoopIsStoppedWakesOnTheWaitersLoop) {
  auto loop = EventLoop::Create().value();
  Event e;
  int woke = 0;
  JoinHandle<absl::Status> a = Spawn(*loop, WaitEvent(&e, &woke));
  JoinHandle<absl::Status> b = Spawn(*loop, WaitEvent(&e, &woke));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_EQ(e.waiters(), 2u);
  e.Set();  // no loop runs on this thread
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_EQ(woke, 2);
  ASSERT_TRUE(a.done() && b.done());
  EXPECT_THAT(std::move(a).TakeResult(), IsOk());
  EXPECT_THAT(std::move(b).TakeResult(), IsOk());
}

}  // namespace
}  // namespace corio
