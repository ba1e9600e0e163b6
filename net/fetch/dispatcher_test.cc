#include "net/fetch/dispatcher.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/testing/scripted_backend.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

// Collects `done` calls from the loops.
class Results {
 public:
  Dispatcher::Done Add() {
    return [this](absl::Status s, v1::FetchResponse r) {
      std::lock_guard<std::mutex> l(mu_);
      statuses_.push_back(s);
      responses_.push_back(std::move(r));
      threads_.insert(std::this_thread::get_id());
      on_loop_ = on_loop_ && EventLoop::Current() != nullptr;
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(30), [&] { return statuses_.size() >= n; });
  }
  std::vector<absl::Status> statuses() {
    std::lock_guard<std::mutex> l(mu_);
    return statuses_;
  }
  std::vector<v1::FetchResponse> responses() {
    std::lock_guard<std::mutex> l(mu_);
    return responses_;
  }
  size_t threads() {
    std::lock_guard<std::mutex> l(mu_);
    return threads_.size();
  }
  bool on_loop() {
    std::lock_guard<std::mutex> l(mu_);
    return on_loop_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<absl::Status> statuses_;
  std::vector<v1::FetchResponse> responses_;
  std::set<std::thread::id> threads_;
  bool on_loop_ = true;
};

Dispatcher::Job JobFor(const std::string& url) {
  Dispatcher::Job job;
  job.request.set_url(url);
  job.queued_since = absl::Now();
  return job;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    group_ = *LoopGroup::Create(LoopGroup::Options{.threads = 2});
    stats_ = std::make_shared<testing::ScriptedStats>();
    Dispatcher::Options o;
    o.max_concurrent_fetches = 4;
    auto d = Dispatcher::Create(*group_, testing::ScriptedBackendFactory(stats_), o);
    ASSERT_THAT(d.status(), IsOk());
    dispatcher_ = *std::move(d);
  }
  void TearDown() override {
    if (dispatcher_) dispatcher_->Stop();
    group_->Shutdown();
  }

  std::unique_ptr<LoopGroup> group_;
  std::shared_ptr<testing::ScriptedStats> stats_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, RunsOnTheLoopsAndSpreadsWork) {
  Results results;
  for (int i = 0; i < 50; ++i) {
    dispatcher_->Start(JobFor("http://ok.test/" + std::to_string(i)), results.Add());
  }
  ASSERT_TRUE(results.WaitFor(50));
  for (const absl::Status& s : results.statuses()) EXPECT_THAT(s, IsOk());
  EXPECT_TRUE(results.on_loop());
  EXPECT_EQ(results.threads(), 2u);  // round robin over both loops
  for (const v1::FetchResponse& r : results.responses()) {
    EXPECT_EQ(r.status(), 200);
    EXPECT_TRUE(r.has_timing());
    EXPECT_GE(r.timing().queued().seconds(), 0);
  }
  EXPECT_TRUE(stats_->WaitForIdle());
  EXPECT_EQ(dispatcher_->running(), 0);
}

TEST_F(DispatcherTest, StartOnAWorkerRunsThereAlsoWhenStartedFromThatLoop) {
  ASSERT_EQ(dispatcher_->workers(), 2u);
  // Each fetch's `done` starts the next on the same worker from that worker's own loop (the
  // in-loop path), until kChain fetches ran; every one must run on loop 1.
  constexpr int kChain = 20;
  std::mutex mu;
  std::condition_variable cv;
  int ended = 0;
  bool all_on_loop1 = true;
  std::function<void(absl::Status, v1::FetchResponse)> next;
  next = [&](absl::Status s, v1::FetchResponse r) {
    std::lock_guard<std::mutex> l(mu);
    all_on_loop1 =
        all_on_loop1 && s.ok() && r.status() == 200 && EventLoop::Current() == &group_->loop(1);
    if (++ended < kChain) {
      dispatcher_->Start(
          JobFor("http://ok.test/" + std::to_string(ended)),
          [&](absl::Status s2, v1::FetchResponse r2) { next(s2, r2); }, 1);
    }
    cv.notify_all();
  };
  dispatcher_->Start(
      JobFor("http://ok.test/0"), [&](absl::Status s, v1::FetchResponse r) { next(s, r); }, 1);
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return ended == kChain; }));
  EXPECT_TRUE(all_on_loop1);
  l.unlock();
  EXPECT_TRUE(stats_->WaitForIdle());
  EXPECT_EQ(stats_->started(), kChain);
}

TEST_F(DispatcherTest, PickWorkerGoesRoundRobin) {
  const uint32_t a = dispatcher_->PickWorker();
  const uint32_t b = dispatcher_->PickWorker();
  EXPECT_LT(a, 2u);
  EXPECT_LT(b, 2u);
  EXPECT_NE(a, b);
}

TEST_F(DispatcherTest, PassesBackendErrorsThrough) {
  Results results;
  dispatcher_->Start(JobFor("http://fail.test/7"), results.Add());
  ASSERT_TRUE(results.WaitFor(1));
  EXPECT_THAT(results.statuses()[0],
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("scripted failure 7")));
}

TEST_F(DispatcherTest, HonoursTheDeadline) {
  Results results;
  Dispatcher::Job job = JobFor("http://stall.test/");
  job.deadline = absl::Now() + absl::Milliseconds(50);
  dispatcher_->Start(std::move(job), results.Add());
  ASSERT_TRUE(results.WaitFor(1));
  EXPECT_THAT(results.statuses()[0], StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(DispatcherTest, CancelEndsARunningFetch) {
  Results results;
  Dispatcher::Ticket t = dispatcher_->Start(JobFor("http://stall.test/"), results.Add());
  ASSERT_TRUE(stats_->WaitForRunning(1));
  dispatcher_->Cancel(t);
  ASSERT_TRUE(results.WaitFor(1));
  EXPECT_THAT(results.statuses()[0], StatusIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(stats_->WaitForIdle());
  EXPECT_EQ(stats_->cancelled(), 1);
}

TEST_F(DispatcherTest, CancelRightAfterStartStillCallsDoneOnce) {
  // Whether the cancel lands before or after the task's first step, `done` runs exactly once.
  Results results;
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) {
    dispatcher_->Cancel(dispatcher_->Start(JobFor("http://stall.test/"), results.Add()));
  }
  ASSERT_TRUE(results.WaitFor(kN));
  for (const absl::Status& s : results.statuses()) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
  }
  EXPECT_TRUE(stats_->WaitForIdle());
  EXPECT_EQ(dispatcher_->running(), 0);
  EXPECT_EQ(results.statuses().size(), static_cast<size_t>(kN));
}

TEST_F(DispatcherTest, CancelAfterTheEndIsANoOp) {
  Results results;
  Dispatcher::Ticket t = dispatcher_->Start(JobFor("http://ok.test/"), results.Add());
  ASSERT_TRUE(results.WaitFor(1));
  dispatcher_->Cancel(t);
  Results more;
  dispatcher_->Start(JobFor("http://ok.test/"), more.Add());
  ASSERT_TRUE(more.WaitFor(1));
  EXPECT_EQ(results.statuses().size(), 1u);
}

TEST_F(DispatcherTest, StopCancelsEverythingAndWaits) {
  Results results;
  for (int i = 0; i < 6; ++i) dispatcher_->Start(JobFor("http://stall.test/"), results.Add());
  ASSERT_TRUE(stats_->WaitForRunning(6));
  dispatcher_->Stop();
  // Stop returned: every fetch has ended and reported.
  EXPECT_EQ(results.statuses().size(), 6u);
  for (const absl::Status& s : results.statuses()) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
  }
  EXPECT_EQ(stats_->running(), 0);
  dispatcher_->Stop();  // idempotent
}

TEST_F(DispatcherTest, ReservesSlotsUpToCapacity) {
  EXPECT_EQ(dispatcher_->capacity(), 4);
  EXPECT_EQ(dispatcher_->TryReserve(3), 3);
  EXPECT_EQ(dispatcher_->TryReserve(3), 1);  // only one left
  EXPECT_EQ(dispatcher_->TryReserve(1), 0);
  EXPECT_EQ(dispatcher_->in_use(), 4);
  dispatcher_->Release(2);
  EXPECT_EQ(dispatcher_->TryReserve(5), 2);
  dispatcher_->Release(4);
  EXPECT_EQ(dispatcher_->in_use(), 0);
}

TEST_F(DispatcherTest, ReserveOrWaitGetsFreedSlotsInOrderOnALoop) {
  ASSERT_EQ(dispatcher_->TryReserve(4), 4);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> granted;
  bool on_loop = true;
  auto waiter = [&](int id) {
    return [&, id] {
      std::lock_guard<std::mutex> l(mu);
      granted.push_back(id);
      on_loop = on_loop && EventLoop::Current() != nullptr;
      cv.notify_all();
    };
  };
  auto wait_for = [&](size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(30), [&] { return granted.size() >= n; });
  };
  EXPECT_FALSE(dispatcher_->ReserveOrWait(waiter(1)));
  EXPECT_FALSE(dispatcher_->ReserveOrWait(waiter(2)));
  EXPECT_EQ(dispatcher_->slot_waiters(), 2);
  dispatcher_->Release(1);
  EXPECT_EQ(dispatcher_->TryReserve(1), 0);  // the freed slot went to the first waiter
  ASSERT_TRUE(wait_for(1));
  EXPECT_EQ(dispatcher_->in_use(), 4);
  EXPECT_EQ(dispatcher_->TryReserve(1), 0);  // waiters come first
  dispatcher_->Release(2);                   // one to the second waiter, one free
  ASSERT_TRUE(wait_for(2));
  EXPECT_EQ(dispatcher_->slot_waiters(), 0);
  EXPECT_EQ(dispatcher_->in_use(), 3);
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(granted, (std::vector<int>{1, 2}));
    EXPECT_TRUE(on_loop);
  }
  // A free slot: taken at once, the callback never runs.
  EXPECT_TRUE(dispatcher_->ReserveOrWait([] { ADD_FAILURE() << "granted later"; }));
  dispatcher_->Release(4);
  EXPECT_EQ(dispatcher_->in_use(), 0);
}

TEST_F(DispatcherTest, AWaiterIsDestroyedUnrunWhenTheDispatcherStops) {
  ASSERT_EQ(dispatcher_->TryReserve(4), 4);
  auto alive = std::make_shared<int>(0);
  EXPECT_FALSE(dispatcher_->ReserveOrWait([alive] { ADD_FAILURE() << "granted after Stop"; }));
  EXPECT_EQ(alive.use_count(), 2);
  dispatcher_->Stop();
  EXPECT_EQ(alive.use_count(), 1);
  dispatcher_->Release(4);
}

TEST(DispatcherCreateTest, FailsWithTheFactoryError) {
  auto group = *LoopGroup::Create(LoopGroup::Options{.threads = 2});
  std::atomic<int> made{0};
  BackendFactory factory = [&](EventLoop&) -> absl::StatusOr<std::unique_ptr<FetchBackend>> {
    if (made.fetch_add(1) == 1) return absl::InternalError("backend: no");
    return testing::ScriptedBackendFactory(std::make_shared<testing::ScriptedStats>())(
        *EventLoop::Current());
  };
  auto d = Dispatcher::Create(*group, factory, {});
  EXPECT_THAT(d.status(), StatusIs(absl::StatusCode::kInternal, "backend: no"));
  group->Shutdown();
}

}  // namespace
}  // namespace corio::fetch
