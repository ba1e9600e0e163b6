#include "loop/loop_group.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

TEST(LoopGroupTest, PostsRunOnEveryLoopEachOnItsOwnThread) {
  LoopGroup::Options options;
  options.threads = 4;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  ASSERT_EQ(group->size(), 4u);
  std::atomic<int> count{0};
  std::mutex mu;
  std::set<EventLoop*> loops_seen;
  std::set<std::thread::id> threads_seen;
  constexpr int kPosts = 10000;
  for (int i = 0; i < kPosts; ++i) {
    ASSERT_TRUE(group->Post([&] {
      EventLoop* current = EventLoop::Current();
      ASSERT_NE(current, nullptr);
      {
        std::lock_guard<std::mutex> lock(mu);
        loops_seen.insert(current);
        threads_seen.insert(std::this_thread::get_id());
      }
      count.fetch_add(1);
    }));
  }
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(count.load(), kPosts);
  EXPECT_EQ(loops_seen.size(), 4u);
  EXPECT_EQ(threads_seen.size(), 4u);
  EXPECT_FALSE(group->Post([] {}));  // after shutdown: refused
}

TEST(LoopGroupTest, DrainWaitsForTimersScheduledByPostedWork) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  std::atomic<int> fired{0};
  for (int i = 0; i < 10; ++i) {
    group->Post([&] {
      EventLoop::Current()->CallLater(absl::Milliseconds(5), [&] { fired.fetch_add(1); });
    });
  }
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(fired.load(), 10);
}

// Blocks a loop in a callback until Shutdown has begun (Post() refuses from then on), then
// queues more work from that callback for later turns: a zero-delay timer and a cross-thread
// callback, each holding `token` (a CallSoon would still run in the current turn). Returns
// when the blocking callback has been posted.
void QueueWorkOnceShutdownBegins(LoopGroup& group, std::shared_ptr<int> token,
                                 std::atomic<int>* ran) {
  EventLoop& loop = group.loop(0);
  ASSERT_TRUE(loop.CallSoonThreadSafe([&group, &loop, token, ran] {
    while (group.Post([] {})) std::this_thread::yield();  // until shutdown has begun
    loop.CallLater(absl::ZeroDuration(), [token, ran] { ran->fetch_add(1); });
    loop.CallSoonThreadSafe([token, ran] { ran->fetch_add(1); });
  }));
}

TEST(LoopGroupTest, DrainRunsWorkQueuedWhileShuttingDown) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  std::atomic<int> ran{0};
  QueueWorkOnceShutdownBegins(*group, std::make_shared<int>(0), &ran);
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(ran.load(), 2);
}

TEST(LoopGroupTest, CancelDestroysPendingWorkUnrun) {
  // The same work as above, but with kCancel: none of it runs, and it is destroyed (with what
  // it holds) by the time Shutdown returns.
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  std::atomic<int> ran{0};
  QueueWorkOnceShutdownBegins(*group, std::move(token), &ran);
  group->Shutdown(LoopGroup::kCancel);
  EXPECT_EQ(ran.load(), 0);
  EXPECT_TRUE(weak.expired());
  EXPECT_TRUE(group->loop(0).closed());
  EXPECT_FALSE(group->loop(0).CallSoonThreadSafe([] {}));
}

TEST(LoopGroupTest, DrainWaitsForWorkHeldWithAGuard) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  // A worker thread holds loop 0's pending work; it posts its result only once shutdown has
  // begun, and releases the guard after posting. The drain must run that result.
  std::atomic<bool> delivered{false};
  WorkGuard guard = group->loop(0).handle().HoldWork();
  std::thread worker([&, g = std::move(guard), h = group->loop(0).handle()]() mutable {
    while (group->Post([] {})) std::this_thread::yield();
    EXPECT_TRUE(h.Post([&] { delivered = true; }));
    g.Release();
  });
  group->Shutdown(LoopGroup::kDrain);
  worker.join();
  EXPECT_TRUE(delivered.load());
}

TEST(LoopGroupTest, CancelFromAnotherThreadEndsADrainThatCannotFinish) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  WorkGuard forever = group->loop(1).handle().HoldWork();  // never released in time
  std::thread drainer([&] { group->Shutdown(LoopGroup::kDrain); });
  while (group->Post([] {})) std::this_thread::yield();  // the drain has begun
  group->Shutdown(LoopGroup::kCancel);                   // the grace period is over
  drainer.join();
  EXPECT_TRUE(group->loop(0).closed());
  EXPECT_TRUE(group->loop(1).closed());
  forever.Release();  // harmless after the loops closed
}

TEST(LoopGroupTest, LeastLoadedAvoidsABusyLoop) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  EventLoop& busy = group->loop(0);
  std::atomic<bool> loaded{false};
  busy.CallSoonThreadSafe([&] {
    for (int i = 0; i < 1000; ++i) busy.CallLater(absl::Hours(1), [] {});
    busy.CallSoon([&] { loaded = true; });  // load is published at the end of a turn
  });
  while (!loaded.load() || busy.load() < 1000) std::this_thread::yield();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(&group->LeastLoaded(), &group->loop(1));
  group->Shutdown(LoopGroup::kCancel);
}

TEST(LoopGroupTest, DestructorCancelsDestroysPendingWorkAndJoins) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  std::atomic<int> ran{0};
  std::atomic<int> threads_alive{0};
  {
    CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create());
    ASSERT_GE(group->size(), 1u);
    for (size_t i = 0; i < group->size(); ++i) {
      ASSERT_TRUE(group->loop(i).CallSoonThreadSafe([&threads_alive] {
        // A thread-local destructor runs when the loop's thread ends.
        struct Alive {
          std::atomic<int>* n;
          ~Alive() { n->fetch_sub(1); }
        };
        thread_local Alive alive{&threads_alive};
        threads_alive.fetch_add(1);
        (void)alive;
      }));
    }
    while (threads_alive.load() < static_cast<int>(group->size())) std::this_thread::yield();
    QueueWorkOnceShutdownBegins(*group, std::move(token), &ran);
    // An hour-long timer a drain would wait for.
    ASSERT_TRUE(group->Post(
        [&ran] { EventLoop::Current()->CallLater(absl::Hours(1), [&ran] { ran.fetch_add(1); }); }));
  }  // ~LoopGroup: Shutdown(kCancel), then the loops are destroyed
  EXPECT_EQ(ran.load(), 0);
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(threads_alive.load(), 0);  // every loop thread has ended
}

}  // namespace
}  // namespace corio
