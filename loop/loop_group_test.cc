#include "loop/loop_group.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

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

TEST(LoopGroupTest, CancelDestroysPendingWorkUnrun) {
  LoopGroup::Options options;
  options.threads = 2;
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create(options));
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  std::atomic<int> fired{0};
  for (int i = 0; i < 2; ++i) {
    group->Post([&fired, t = token] {
      EventLoop::Current()->CallLater(absl::Hours(1), [&fired, t] { fired.fetch_add(1); });
    });
  }
  token.reset();
  group->Shutdown(LoopGroup::kCancel);
  EXPECT_EQ(fired.load(), 0);
  group.reset();  // loops destroyed: their timers' callbacks with them
  EXPECT_TRUE(weak.expired());
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

TEST(LoopGroupTest, DestructorShutsDownWithoutHanging) {
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopGroup> group, LoopGroup::Create());
  EXPECT_GE(group->size(), 1u);
  group->Post([] { EventLoop::Current()->CallLater(absl::Hours(1), [] {}); });
}

}  // namespace
}  // namespace corio
