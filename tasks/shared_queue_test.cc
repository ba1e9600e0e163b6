#include "tasks/shared_queue.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "tasks/spawn_on.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

TEST(SharedQueueTest, FifoWithTryVariantsAndClose) {
  auto main = []() -> Task<absl::Status> {
    SharedQueue<std::string> q(/*capacity=*/2);
    EXPECT_THAT(q.TryGet(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(q.TryPut("a"), IsOk());
    absl::Status put_b = co_await q.Put("b");
    EXPECT_THAT(put_b, IsOk());
    EXPECT_THAT(q.TryPut("c"), StatusIs(absl::StatusCode::kResourceExhausted));
    // A putter waits while full and gets in when a getter makes room.
    JoinHandle<absl::Status> putter = Spawn([](SharedQueue<std::string>* q) -> Task<absl::Status> {
      co_return co_await q->Put("c");
    }(&q));
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_EQ(q.size(), 2u);
    absl::StatusOr<std::string> a = co_await q.Get();
    EXPECT_THAT(a, IsOkAndHolds("a"));
    absl::Status pc = co_await std::move(putter);
    EXPECT_THAT(pc, IsOk());
    q.Close();
    EXPECT_THAT(q.TryPut("d"), StatusIs(absl::StatusCode::kFailedPrecondition));
    std::vector<std::string> rest;
    for (;;) {
      absl::StatusOr<std::string> v = co_await q.Get();
      if (!v.ok()) {
        EXPECT_THAT(v, StatusIs(absl::StatusCode::kOutOfRange));
        break;
      }
      rest.push_back(*v);
    }
    EXPECT_THAT(rest, ElementsAre("b", "c"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedQueueTest, CloseWakesWaitingGettersAndPutters) {
  auto main = []() -> Task<absl::Status> {
    SharedQueue<int> empty;
    JoinHandle<absl::StatusOr<int>> getter =
        Spawn([](SharedQueue<int>* q) -> Task<absl::StatusOr<int>> {
          co_return co_await q->Get();
        }(&empty));
    SharedQueue<int> full(1);
    EXPECT_THAT(full.TryPut(1), IsOk());
    JoinHandle<absl::Status> putter = Spawn(
        [](SharedQueue<int>* q) -> Task<absl::Status> { co_return co_await q->Put(2); }(&full));
    (void)co_await Sleep(absl::Seconds(1));
    empty.Close();
    full.Close();
    absl::StatusOr<int> g = co_await std::move(getter);
    EXPECT_THAT(g, StatusIs(absl::StatusCode::kOutOfRange));
    absl::Status p = co_await std::move(putter);
    EXPECT_THAT(p, StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedQueueTest, ACancelledGetterKeepsAnItemItWasHanded) {
  auto main = []() -> Task<absl::Status> {
    SharedQueue<int> q;
    JoinHandle<absl::StatusOr<int>> g = Spawn(
        [](SharedQueue<int>* q) -> Task<absl::StatusOr<int>> { co_return co_await q->Get(); }(&q));
    JoinHandle<absl::StatusOr<int>> h = Spawn(
        [](SharedQueue<int>* q) -> Task<absl::StatusOr<int>> { co_return co_await q->Get(); }(&q));
    (void)co_await Sleep(absl::Seconds(1));
    h.Cancel();                        // queued: leaves
    EXPECT_THAT(q.TryPut(7), IsOk());  // handed to g
    g.Cancel();                        // after the hand-off: g still returns the item
    absl::StatusOr<int> gv = co_await std::move(g);
    EXPECT_THAT(gv, IsOkAndHolds(7));
    absl::StatusOr<int> hv = co_await std::move(h);
    EXPECT_THAT(hv, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_EQ(q.size(), 0u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(SharedQueueTest, AnItemHandedToAGetterThatNeverResumesGoesBack) {
  SharedQueue<int> q;
  {
    auto loop = EventLoop::Create().value();
    Spawn(*loop,
          [](SharedQueue<int>* q) -> Task<absl::StatusOr<int>> { co_return co_await q->Get(); }(&q))
        .Detach();
    ASSERT_THAT(loop->RunUntilIdle(), IsOk());
    ASSERT_THAT(q.TryPut(5), IsOk());  // handed over; the loop is destroyed before it resumes
  }
  EXPECT_THAT(q.TryGet(), IsOkAndHolds(5));
}

// Producers on two loops, consumers on two others, a small capacity, cancels from another
// thread: every item that a Put reported OK is received exactly once, each consumer resumes
// on its own loop, and nothing is left behind.
TEST(SharedQueueTest, ProducersAndConsumersOnDifferentLoops) {
  LoopGroup::Options options;
  options.threads = 4;
  std::unique_ptr<LoopGroup> group = LoopGroup::Create(options).value();
  constexpr int kPerProducer = 2000;
  SharedQueue<int> q(/*capacity=*/8);
  std::atomic<int> wrong_loop{0};
  auto producer = [](SharedQueue<int>* q, int base, int n) -> Task<absl::StatusOr<int>> {
    int sent = 0;
    for (int i = 0; i < n; ++i) {
      absl::Status s = co_await q->Put(base + i);
      if (!s.ok()) break;
      ++sent;
    }
    co_return sent;
  };
  auto consumer = [](SharedQueue<int>* q,
                     std::atomic<int>* wrong_loop) -> Task<absl::StatusOr<std::vector<int>>> {
    EventLoop* home = EventLoop::Current();
    std::vector<int> got;
    for (;;) {
      absl::StatusOr<int> v = co_await q->Get();
      if (EventLoop::Current() != home) wrong_loop->fetch_add(1);
      if (!v.ok()) break;  // closed and drained
      got.push_back(*v);
    }
    co_return got;
  };
  RemoteHandle<absl::StatusOr<int>> p0 = SpawnOn(group->loop(0), producer(&q, 0, kPerProducer));
  RemoteHandle<absl::StatusOr<int>> p1 =
      SpawnOn(group->loop(1), producer(&q, 1'000'000, kPerProducer));
  RemoteHandle<absl::StatusOr<std::vector<int>>> c2 =
      SpawnOn(group->loop(2), consumer(&q, &wrong_loop));
  RemoteHandle<absl::StatusOr<std::vector<int>>> c3 =
      SpawnOn(group->loop(3), consumer(&q, &wrong_loop));
  absl::StatusOr<int> sent0 = std::move(p0).Wait();
  absl::StatusOr<int> sent1 = std::move(p1).Wait();
  ASSERT_THAT(sent0, IsOkAndHolds(kPerProducer));
  ASSERT_THAT(sent1, IsOkAndHolds(kPerProducer));
  q.Close();
  absl::StatusOr<std::vector<int>> got2 = std::move(c2).Wait();
  absl::StatusOr<std::vector<int>> got3 = std::move(c3).Wait();
  ASSERT_THAT(got2, IsOk());
  ASSERT_THAT(got3, IsOk());
  std::vector<int> all = *got2;
  all.insert(all.end(), got3->begin(), got3->end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 2u * kPerProducer);
  for (int i = 0; i < kPerProducer; ++i) {
    EXPECT_EQ(all[i], i);
    EXPECT_EQ(all[kPerProducer + i], 1'000'000 + i);
  }
  // Each consumer saw each producer's items in order (FIFO per producer).
  for (const std::vector<int>* got : {&*got2, &*got3}) {
    int last_low = -1, last_high = -1;
    for (int v : *got) {
      int& last = v < 1'000'000 ? last_low : last_high;
      EXPECT_LT(last, v);
      last = v;
    }
  }
  EXPECT_EQ(wrong_loop.load(), 0);
  group->Shutdown(LoopGroup::kDrain);
}

TEST(SharedQueueTest, CancelledConsumersNeverLoseItems) {
  LoopGroup::Options options;
  options.threads = 3;
  std::unique_ptr<LoopGroup> group = LoopGroup::Create(options).value();
  constexpr int kItems = 3000;
  SharedQueue<int> q(/*capacity=*/4);
  std::atomic<int> received{0};
  std::atomic<long> sum{0};
  // Consumers that each take a few items and are cancelled at random moments by a foreign
  // thread; whatever a cancelled Get was handed is still returned, and the rest stays queued.
  std::vector<RemoteHandle<absl::Status>> consumers;
  auto consumer = [](SharedQueue<int>* q, std::atomic<int>* received,
                     std::atomic<long>* sum) -> Task<absl::Status> {
    for (;;) {
      absl::StatusOr<int> v = co_await q->Get();
      if (!v.ok()) co_return v.status();
      received->fetch_add(1);
      sum->fetch_add(*v);
    }
  };
  RemoteHandle<absl::Status> producer =
      SpawnOn(group->loop(0), [](SharedQueue<int>* q) -> Task<absl::Status> {
        for (int i = 1; i <= kItems; ++i) CORIO_CO_RETURN_IF_ERROR(co_await q->Put(i));
        co_return absl::OkStatus();
      }(&q));
  std::thread churn([&] {
    for (int round = 0; round < 40; ++round) {
      RemoteHandle<absl::Status> c =
          SpawnOn(group->loop(1 + round % 2), consumer(&q, &received, &sum));
      std::this_thread::yield();
      c.Cancel();
      absl::Status s = std::move(c).Wait();
      EXPECT_TRUE(absl::IsCancelled(s) || s.ok()) << s;
    }
  });
  churn.join();
  // A last consumer that is not cancelled takes what is left.
  RemoteHandle<absl::Status> last = SpawnOn(group->loop(1), consumer(&q, &received, &sum));
  EXPECT_THAT(std::move(producer).Wait(), IsOk());
  q.Close();
  EXPECT_THAT(std::move(last).Wait(), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(received.load(), kItems);
  EXPECT_EQ(sum.load(), static_cast<long>(kItems) * (kItems + 1) / 2);
  group->Shutdown(LoopGroup::kDrain);
}

}  // namespace
}  // namespace corio
