// Event, Mutex, Semaphore, Condition: behaviour, FIFO fairness, and cancellation at every
// suspension point (a cancelled waiter never takes a permit, and never loses one it was given).
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/condition.h"
#include "tasks/event.h"
#include "tasks/mutex.h"
#include "tasks/run.h"
#include "tasks/semaphore.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/run_task.h"
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

Task<absl::Status> Increment(Mutex* mu, int* counter, std::vector<int>* order, int id) {
  CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
  order->push_back(id);
  const int seen = *counter;
  CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(1)));  // others run meanwhile
  *counter = seen + 1;
  co_return absl::OkStatus();
}

TEST(MutexTest, ExcludesAndIsFifo) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    int counter = 0;
    std::vector<int> order;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 5; ++i) hs.push_back(Spawn(Increment(&mu, &counter, &order, i)));
    for (auto& h : hs) CORIO_CO_RETURN_IF_ERROR(co_await std::move(h));
    EXPECT_EQ(counter, 5);  // no lost update: the sleeps happened inside the lock
    EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
    EXPECT_FALSE(mu.is_locked());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MutexTest, CancelWhileQueuedAndCancelAfterHandOff) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    EXPECT_TRUE(mu.TryLock());
    EXPECT_FALSE(mu.TryLock());
    auto locker = [](Mutex* mu, bool* got) -> Task<absl::Status> {
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
      *got = true;
      co_return absl::OkStatus();
    };
    bool got_a = false, got_b = false;
    JoinHandle<absl::Status> a = Spawn(locker(&mu, &got_a));
    JoinHandle<absl::Status> b = Spawn(locker(&mu, &got_b));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();  // queued: leaves the queue without the lock
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_FALSE(got_a);
    mu.Unlock();  // hands the lock to b...
    b.Cancel();   // ...which is cancelled after the hand-off: it still owns it
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_TRUE(got_b);
    EXPECT_FALSE(mu.is_locked());  // b's MutexLock released it
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

Task<absl::Status> UseSlot(Semaphore* sem, int* active, int* peak) {
  CORIO_CO_RETURN_IF_ERROR(co_await sem->Acquire());
  ++*active;
  *peak = std::max(*peak, *active);
  absl::Status s = co_await Sleep(absl::Milliseconds(10));
  --*active;
  sem->Release();
  co_return s;
}

TEST(SemaphoreTest, BoundsConcurrency) {
  auto main = []() -> Task<absl::Status> {
    Semaphore sem(3);
    int active = 0, peak = 0;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 20; ++i) hs.push_back(Spawn(UseSlot(&sem, &active, &peak)));
    for (auto& h : hs) CORIO_CO_RETURN_IF_ERROR(co_await std::move(h));
    EXPECT_EQ(peak, 3);
    EXPECT_EQ(sem.available(), 3);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SemaphoreTest, CancelledWaitersNeverTakeOrLosePermits) {
  auto main = []() -> Task<absl::Status> {
    Semaphore sem(0);
    auto acquire = [](Semaphore* s) -> Task<absl::Status> { co_return co_await s->Acquire(); };
    JoinHandle<absl::Status> a = Spawn(acquire(&sem));
    JoinHandle<absl::Status> b = Spawn(acquire(&sem));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    sem.Release();  // to b (a left the queue)
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_EQ(sem.available(), 0);  // b holds it
    sem.Release();
    EXPECT_EQ(sem.available(), 1);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SemaphoreTest, BoundedSemaphoreRefusesExtraReleases) {
  auto main = []() -> Task<absl::Status> {
    BoundedSemaphore sem(1);
    CORIO_CO_RETURN_IF_ERROR(co_await sem.Acquire());
    EXPECT_THAT(sem.Release(), IsOk());
    EXPECT_THAT(sem.Release(), StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ConditionTest, ProducerConsumerWithPredicate) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    Condition cv(mu);
    std::vector<int> items;
    std::vector<int> consumed;
    auto consumer = [](Mutex* mu, Condition* cv, std::vector<int>* items,
                       std::vector<int>* consumed) -> Task<absl::Status> {
      for (int n = 0; n < 3; ++n) {
        CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
        CORIO_CO_RETURN_IF_ERROR(co_await cv->WaitFor([&] { return !items->empty(); }));
        EXPECT_TRUE(mu->is_locked());
        consumed->push_back(items->front());
        items->erase(items->begin());
      }
      co_return absl::OkStatus();
    };
    JoinHandle<absl::Status> c = Spawn(consumer(&mu, &cv, &items, &consumed));
    for (int i = 1; i <= 3; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu.Lock());
      items.push_back(i);
      cv.NotifyOne();
    }
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(c));
    EXPECT_THAT(consumed, ElementsAre(1, 2, 3));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ConditionTest, CancelledWaitReacquiresTheMutexBeforeReturning) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    Condition cv(mu);
    bool held_after = false;
    auto waiter = [](Mutex* mu, Condition* cv, bool* held_after) -> Task<absl::Status> {
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
      absl::Status s = co_await cv->Wait();
      *held_after = mu->is_locked() && lock.owns_lock();
      co_return s;
    };
    JoinHandle<absl::Status> w = Spawn(waiter(&mu, &cv, &held_after));
    (void)co_await Sleep(absl::Seconds(1));
    // Hold the mutex while cancelling: the waiter must wait for it before returning.
    CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu.Lock());
    w.Cancel();
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_FALSE(w.done());
    lock.Unlock();
    absl::Status s = co_await std::move(w);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_TRUE(held_after);
    EXPECT_FALSE(mu.is_locked());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
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

Task<absl::Status> AcquireOne(Semaphore* s) { co_return co_await s->Acquire(); }

TEST(SemaphoreTest, HandOffWhileTheLoopIsStoppedWakesOnTheWaitersLoop) {
  auto loop = EventLoop::Create().value();
  Semaphore sem(0);
  JoinHandle<absl::Status> a = Spawn(*loop, AcquireOne(&sem));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  sem.Release();
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(a.done());
  EXPECT_THAT(std::move(a).TakeResult(), IsOk());
}

Task<absl::Status> LockOne(Mutex* mu) {
  absl::StatusOr<MutexLock> l = co_await mu->Lock();
  co_return l.status();
}

TEST(MutexTest, HandOffWhileTheLoopIsStoppedWakesOnTheWaitersLoop) {
  auto loop = EventLoop::Create().value();
  Mutex mu;
  ASSERT_TRUE(mu.TryLock());
  JoinHandle<absl::Status> a = Spawn(*loop, LockOne(&mu));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  mu.Unlock();
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(a.done());
  EXPECT_THAT(std::move(a).TakeResult(), IsOk());
}

}  // namespace
}  // namespace corio
