#include "tasks/shared_semaphore.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "tasks/spawn_on.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;

Task<absl::Status> AcquireOnce(SharedSemaphore* sem, bool release) {
  CORIO_CO_RETURN_IF_ERROR(co_await sem->Acquire());
  if (release) sem->Release();
  co_return absl::OkStatus();
}

TEST(SharedSemaphoreTest, AcquiresAtOnceWhileFreeAndQueuesInOrder) {
  auto main = []() -> Task<absl::Status> {
    SharedSemaphore sem(1);
    EXPECT_TRUE(sem.TryAcquire());
    EXPECT_FALSE(sem.TryAcquire());
    std::vector<int> order;
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 3; ++i) {
      hs.push_back(
          Spawn([](SharedSemaphore* sem, std::vector<int>* order, int i) -> Task<absl::Status> {
            CORIO_CO_RETURN_IF_ERROR(co_await sem->Acquire());
            order->push_back(i);
            sem->Release();
            co_return absl::OkStatus();
          }(&sem, &order, i)));
    }
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_EQ(sem.waiters(), 3u);
    sem.Release();
    for (auto& h : hs) CORIO_CO_RETURN_IF_ERROR(co_await std::move(h));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(sem.available(), 1);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedSemaphoreTest, CancelledWaitersLeaveWithoutTakingAPermit) {
  auto main = []() -> Task<absl::Status> {
    SharedSemaphore sem(0);
    JoinHandle<absl::Status> a = Spawn(AcquireOnce(&sem, /*release=*/false));
    JoinHandle<absl::Status> b = Spawn(AcquireOnce(&sem, /*release=*/false));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();
    absl::Status sa = co_await std::move(a);
    EXPECT_THAT(sa, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_EQ(sem.waiters(), 1u);
    sem.Release();  // goes to b, not to the cancelled a
    absl::Status sb = co_await std::move(b);
    EXPECT_THAT(sb, IsOk());
    EXPECT_EQ(sem.available(), 0);
    // Already cancelled before acquiring: does not wait, takes nothing.
    JoinHandle<absl::Status> c = Spawn(AcquireOnce(&sem, false));
    c.Cancel();
    absl::Status sc = co_await std::move(c);
    EXPECT_THAT(sc, StatusIs(absl::StatusCode::kCancelled));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedSemaphoreTest, ACancelAfterTheHandOffKeepsThePermit) {
  auto main = []() -> Task<absl::Status> {
    SharedSemaphore sem(0);
    JoinHandle<absl::Status> a = Spawn(AcquireOnce(&sem, /*release=*/false));
    (void)co_await Sleep(absl::Seconds(1));
    sem.Release();  // handed to a; its resumption is queued
    a.Cancel();     // too late to undo the hand-off
    absl::Status s = co_await std::move(a);
    EXPECT_THAT(s, IsOk());
    EXPECT_EQ(sem.available(), 0);  // a holds it
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedSemaphoreTest, AWaiterDestroyedAfterTheHandOffGivesThePermitBack) {
  SharedSemaphore sem(0);
  {
    auto loop = EventLoop::Create().value();
    Spawn(*loop, AcquireOnce(&sem, false)).Detach();
    ASSERT_THAT(loop->RunUntilIdle(), IsOk());
    ASSERT_EQ(sem.waiters(), 1u);
    sem.Release();  // posted to the loop, which is destroyed before it runs
  }
  EXPECT_EQ(sem.available(), 1);
  EXPECT_EQ(sem.waiters(), 0u);
}

TEST(SharedSemaphoreTest, AWaiterWhoseLoopClosedIsSkipped) {
  SharedSemaphore sem(0);
  auto closed_loop = EventLoop::Create().value();
  Spawn(*closed_loop, AcquireOnce(&sem, false)).Detach();
  ASSERT_THAT(closed_loop->RunUntilIdle(), IsOk());
  auto other = EventLoop::Create().value();
  JoinHandle<absl::Status> waiting = Spawn(*other, AcquireOnce(&sem, false));
  ASSERT_THAT(other->RunUntilIdle(), IsOk());
  ASSERT_EQ(sem.waiters(), 2u);
  closed_loop->Close();  // its task can never resume now
  sem.Release();         // skips it: the permit goes to the next waiter
  ASSERT_THAT(other->RunUntilIdle(), IsOk());
  ASSERT_TRUE(waiting.done());
  EXPECT_THAT(std::move(waiting).TakeResult(), IsOk());
  closed_loop.reset();  // destroys the orphaned waiter's frame: no permit comes back from it
  EXPECT_EQ(sem.available(), 0);
}

std::unique_ptr<LoopGroup> NewGroup(int threads) {
  LoopGroup::Options options;
  options.threads = threads;
  return LoopGroup::Create(options).value();
}

// The limit holds across a LoopGroup, every waiter resumes on its own loop, and cancels that
// race hand-offs (from another thread) neither lose nor duplicate a permit.
TEST(SharedSemaphoreTest, LimitHoldsAcrossALoopGroupWithCancelsRacingHandOffs) {
  constexpr int kPermits = 3;
  constexpr int kTasks = 400;
  std::unique_ptr<LoopGroup> group = NewGroup(4);
  SharedSemaphore sem(kPermits);
  std::atomic<int> inside{0}, max_inside{0}, wrong_loop{0};
  std::vector<RemoteHandle<absl::Status>> hs;
  for (int i = 0; i < kTasks; ++i) {
    hs.push_back(
        SpawnOn(group->loop(i % group->size()),
                [](SharedSemaphore* sem, std::atomic<int>* inside, std::atomic<int>* max_inside,
                   std::atomic<int>* wrong_loop, int i) -> Task<absl::Status> {
                  EventLoop* home = EventLoop::Current();
                  absl::Status got = co_await sem->Acquire();
                  if (EventLoop::Current() != home) wrong_loop->fetch_add(1);
                  CORIO_CO_RETURN_IF_ERROR(got);
                  const int now = inside->fetch_add(1) + 1;
                  int seen = max_inside->load();
                  while (now > seen && !max_inside->compare_exchange_weak(seen, now)) {
                  }
                  for (int k = 0; k < i % 4; ++k) (void)co_await Yield();
                  inside->fetch_sub(1);
                  sem->Release();
                  co_return absl::OkStatus();
                }(&sem, &inside, &max_inside, &wrong_loop, i)));
  }
  std::thread canceller([&] {
    for (int i = 0; i < kTasks; i += 3) hs[i].Cancel();
  });
  canceller.join();
  int ok = 0, cancelled = 0;
  for (auto& h : hs) {
    absl::Status s = std::move(h).Wait();
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
      ++cancelled;
    }
  }
  EXPECT_EQ(ok + cancelled, kTasks);
  EXPECT_LE(max_inside.load(), kPermits);
  EXPECT_EQ(wrong_loop.load(), 0);
  EXPECT_EQ(sem.available(), kPermits);  // every permit came back
  EXPECT_EQ(sem.waiters(), 0u);
  group->Shutdown(LoopGroup::kDrain);
}

}  // namespace
}  // namespace corio
