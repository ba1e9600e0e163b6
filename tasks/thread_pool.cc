#include "tasks/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace corio {

ThreadPool::ThreadPool(int threads) {
  threads = std::max(1, threads);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "corio-pool");
      Work();
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Submit(absl::AnyInvocable<void() &&> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::Work() {
  for (;;) {
    absl::AnyInvocable<void() &&> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything submitted has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::move(job)();
  }
}

ThreadPool& ThreadPool::Default() {
  static ThreadPool* const pool =
      new ThreadPool(std::max(4, static_cast<int>(std::thread::hardware_concurrency())));
  return *pool;
}

}  // namespace corio
