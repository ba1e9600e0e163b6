// ThreadPool: a fixed set of threads running blocking work (what ToThread uses). Not for
// async work: that belongs on an EventLoop.
//
//   corio::ThreadPool pool(4);
//   pool.Submit([] { CompressFile(path); });
//   corio::ThreadPool& shared = corio::ThreadPool::Default();   // max(4, cores) threads
//
// Threading: Submit() from any thread. Jobs run in FIFO order, concurrently up to the number
// of threads.
// Ownership: the destructor runs the jobs already submitted, then joins the threads. The
// Default() pool lives for the whole process.
#ifndef CORIO_TASKS_THREAD_POOL_H_
#define CORIO_TASKS_THREAD_POOL_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "base/config.h"  // first: a clear error below C++20

namespace corio {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(absl::AnyInvocable<void() &&> job);
  int size() const { return static_cast<int>(threads_.size()); }

  static ThreadPool& Default();

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> jobs_;  // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace corio

#endif  // CORIO_TASKS_THREAD_POOL_H_
