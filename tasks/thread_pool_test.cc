#include "tasks/thread_pool.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace corio {
namespace {

TEST(ThreadPoolTest, RunsEveryJobOnItsThreadsAndTheDestructorWaitsForThem) {
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  {
    ThreadPool pool(3);
    EXPECT_EQ(pool.size(), 3);
    for (int i = 0; i < 1000; ++i) {
      pool.Submit([&] {
        {
          std::lock_guard<std::mutex> lock(mu);
          threads.insert(std::this_thread::get_id());
        }
        ran.fetch_add(1);
      });
    }
  }  // runs what was submitted, then joins
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_LE(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(ThreadPoolTest, JobsMaySubmitMoreJobs) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    pool.Submit([&] {
      ran.fetch_add(1);
      pool.Submit([&] { ran.fetch_add(1); });
    });
    while (ran.load() < 2) std::this_thread::yield();
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadPoolTest, DefaultPoolIsSharedAndHasAtLeastFourThreads) {
  EXPECT_EQ(&ThreadPool::Default(), &ThreadPool::Default());
  EXPECT_GE(ThreadPool::Default().size(), 4);
}

}  // namespace
}  // namespace corio
