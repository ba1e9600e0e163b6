// LoopGroup: N event loops on N threads (default: one per core). asyncio is concurrent; a
// LoopGroup makes corio parallel too: hand each loop independent work (a connection, a URL).
//
//   auto group = corio::LoopGroup::Create().value();       // one loop per core
//   group->Post([] { /* runs on some loop's thread */ });  // round robin
//   corio::EventLoop& loop = group->LeastLoaded();
//   loop.CallSoonThreadSafe([&] { ... });
//   group->Shutdown(corio::LoopGroup::kDrain);              // let queued work finish
//
// Threading: every method may be called from any thread, including from the group's own
// loops (except Shutdown(), which joins the threads and so must not run on one of them).
// Ownership: the group owns its loops and threads. Destroying it shuts down with kCancel.
// Shutdown: kDrain stops accepting posts and lets each loop run until it has no ready
// callbacks, timers or fd watchers left (a loop with a watcher that is never stopped never
// drains); kCancel stops the loops after their current turn and destroys pending work unrun.
// Errors: Create() fails like EventLoop::Create, or with the errno of thread creation.
#ifndef CORIO_LOOP_LOOP_GROUP_H_
#define CORIO_LOOP_LOOP_GROUP_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "loop/callback.h"
#include "loop/event_loop.h"

namespace corio {

class LoopGroup {
 public:
  struct Options {
    int threads = 0;  // 0: std::thread::hardware_concurrency()
    std::optional<EventLoop::Backend> backend;
  };
  enum ShutdownMode { kDrain, kCancel };

  static absl::StatusOr<std::unique_ptr<LoopGroup>> Create();
  static absl::StatusOr<std::unique_ptr<LoopGroup>> Create(Options options);
  ~LoopGroup();
  LoopGroup(const LoopGroup&) = delete;
  LoopGroup& operator=(const LoopGroup&) = delete;

  size_t size() const { return loops_.size(); }
  EventLoop& loop(size_t i) { return *loops_[i]; }
  EventLoop& Next();         // round robin
  EventLoop& LeastLoaded();  // fewest pending callbacks + timers + fds at its last turn

  // Runs `cb` on the next loop (round robin) / the least loaded one. Returns false, and
  // destroys `cb` unrun, once shutdown has begun.
  bool Post(Callback cb);
  bool PostToLeastLoaded(Callback cb);

  // Idempotent; blocks until every thread has exited.
  void Shutdown(ShutdownMode mode = kDrain);

 private:
  enum State : int { kRunning = 0, kDraining = 1, kCancelling = 2 };
  LoopGroup() = default;
  void ThreadMain(EventLoop* loop);
  bool PostTo(EventLoop& loop, Callback cb);

  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
  std::atomic<int> state_{kRunning};
  std::atomic<int> posting_{0};  // Post() calls between their state check and their hand-off
  std::mutex shutdown_mu_;
};

}  // namespace corio

#endif  // CORIO_LOOP_LOOP_GROUP_H_
