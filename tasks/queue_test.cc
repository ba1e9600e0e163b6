#include "tasks/queue.h"

#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

Task<absl::Status> Produce(Queue<int>* q, int from, int n) {
  for (int i = from; i < from + n; ++i) CORIO_CO_RETURN_IF_ERROR(co_await q->Put(i));
  co_return absl::OkStatus();
}

Task<absl::StatusOr<std::vector<int>>> Drain(Queue<int>* q) {
  std::vector<int> got;
  for (;;) {
    absl::StatusOr<int> v = co_await q->Get();
    if (absl::IsOutOfRange(v.status())) co_return got;  // closed and empty
    if (!v.ok()) co_return v.status();
    got.push_back(*v);
  }
}

TEST(QueueTest, BoundedFifoHandsOffBetweenProducerAndConsumer) {
  auto main = []() -> Task<absl::StatusOr<std::vector<int>>> {
    Queue<int> q(2);
    JoinHandle<absl::StatusOr<std::vector<int>>> consumer = Spawn(Drain(&q));
    CORIO_CO_RETURN_IF_ERROR(co_await Produce(&q, 0, 100));
    EXPECT_LE(q.size(), 2u);
    q.Close();
    co_return co_await std::move(consumer);
  };
  absl::StatusOr<absl::StatusOr<std::vector<int>>> got = RunTask(main());
  ASSERT_THAT(got, IsOk());
  ASSERT_THAT(*got, IsOk());
  ASSERT_EQ((*got)->size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ((**got)[i], i);
}

TEST(QueueTest, PutWaitsWhileFullAndTryVariantsReportWhy) {
  auto main = []() -> Task<absl::Status> {
    Queue<std::string> q(1);
    EXPECT_THAT(q.TryGet(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(q.TryPut("a"), IsOk());
    EXPECT_TRUE(q.full());
    EXPECT_THAT(q.TryPut("b"), StatusIs(absl::StatusCode::kResourceExhausted));
    JoinHandle<absl::Status> putter = Spawn(
        [](Queue<std::string>* q) -> Task<absl::Status> { co_return co_await q->Put("c"); }(&q));
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_FALSE(putter.done());                 // full: waiting
    EXPECT_THAT(q.TryGet(), IsOkAndHolds("a"));  // admits the putter's "c"
    absl::Status put = co_await std::move(putter);
    EXPECT_THAT(put, IsOk());
    EXPECT_THAT(q.TryGet(), IsOkAndHolds("c"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(QueueTest, CloseFailsPuttersAndDrainsGetters) {
  auto main = []() -> Task<absl::Status> {
    Queue<int> q(1);
    CORIO_CO_RETURN_IF_ERROR(co_await q.Put(1));
    JoinHandle<absl::Status> blocked =
        Spawn([](Queue<int>* q) -> Task<absl::Status> { co_return co_await q->Put(2); }(&q));
    (void)co_await Sleep(absl::Seconds(1));
    q.Close();
    absl::Status put = co_await std::move(blocked);
    EXPECT_THAT(put, StatusIs(absl::StatusCode::kFailedPrecondition));
    absl::Status late = co_await q.Put(3);
    EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition));
    absl::StatusOr<int> first = co_await q.Get();  // drains what was queued
    EXPECT_THAT(first, IsOkAndHolds(1));
    absl::StatusOr<int> end = co_await q.Get();
    EXPECT_THAT(end, StatusIs(absl::StatusCode::kOutOfRange));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(QueueTest, CloseWakesWaitingGettersOfAnEmptyQueue) {
  auto main = []() -> Task<absl::Status> {
    Queue<int> q;
    JoinHandle<absl::StatusOr<int>> getter =
        Spawn([](Queue<int>* q) -> Task<absl::StatusOr<int>> { co_return co_await q->Get(); }(&q));
    (void)co_await Sleep(absl::Seconds(1));
    q.Close();
    absl::StatusOr<int> got = co_await std::move(getter);
    co_return got.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(QueueTest, CancelledGettersNeverLoseItems) {
  auto main = []() -> Task<absl::Status> {
    Queue<int> q;
    auto get = [](Queue<int>* q) -> Task<absl::StatusOr<int>> { co_return co_await q->Get(); };
    JoinHandle<absl::StatusOr<int>> a = Spawn(get(&q));
    JoinHandle<absl::StatusOr<int>> b = Spawn(get(&q));
    (void)co_await Sleep(absl::Seconds(1));
    a.Cancel();  // a leaves the queue of getters with nothing
    absl::StatusOr<int> ra = co_await std::move(a);
    EXPECT_THAT(ra, StatusIs(absl::StatusCode::kCancelled));
    CORIO_CO_RETURN_IF_ERROR(co_await q.Put(7));  // handed to b directly
    b.Cancel();                                   // after the hand-off: b still returns the item
    absl::StatusOr<int> rb = co_await std::move(b);
    EXPECT_THAT(rb, IsOkAndHolds(7));
    EXPECT_TRUE(q.empty());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(QueueTest, LifoAndPriorityOrders) {
  auto main = []() -> Task<absl::Status> {
    LifoQueue<int> lifo;
    PriorityQueue<int> prio;
    for (int v : {3, 1, 2}) {
      CORIO_CO_RETURN_IF_ERROR(co_await lifo.Put(v));
      CORIO_CO_RETURN_IF_ERROR(co_await prio.Put(v));
    }
    std::vector<int> l, p;
    for (int i = 0; i < 3; ++i) {
      CORIO_CO_ASSIGN_OR_RETURN(int a, co_await lifo.Get());
      CORIO_CO_ASSIGN_OR_RETURN(int b, co_await prio.Get());
      l.push_back(a);
      p.push_back(b);
    }
    EXPECT_THAT(l, ElementsAre(2, 1, 3));
    EXPECT_THAT(p, ElementsAre(1, 2, 3));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

Task<absl::StatusOr<int>> GetOne(Queue<int>* q) { co_return co_await q->Get(); }

TEST(QueueTest, HandOffWhileTheLoopIsStoppedWakesOnTheGettersLoop) {
  auto loop = EventLoop::Create().value();
  Queue<int> q;
  JoinHandle<absl::StatusOr<int>> g = Spawn(*loop, GetOne(&q));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_THAT(q.TryPut(7), IsOk());  // hands the item to the waiting getter
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_TRUE(g.done());
  EXPECT_EQ(*std::move(g).TakeResult(), 7);
}

}  // namespace
}  // namespace corio
