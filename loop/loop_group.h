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
// Shutdown (both modes stop accepting Post()s at once; the loops then end together):
//  - kDrain lets the work in flight finish. The loops run until the whole group is quiet: no
//    loop has ready callbacks, timers, fd watchers, work held with a WorkGuard (ToThread jobs)
//    or cross-thread callbacks on their way. The group is looked at as a whole, so a task
//    awaiting another loop's task (SpawnOn) or a shared semaphore keeps running while that
//    loop works. The tasks still alive then can only be waiting on something nothing will
//    trigger (an Event nobody sets): they are cancelled, every loop runs until they have
//    finished, and the loops end. A watcher never stopped, or a task that ignores
//    cancellation, keeps the drain going: escalate with Shutdown(kCancel) from another thread.
//  - kCancel cancels every task alive on every loop (and every task started from then on) and
//    runs the loops until those tasks have finished, so their frames and what they hold
//    (sockets, permits, timers) are released; callbacks and timers that are not tasks are not
//    run.
// When the loops end, each is closed (EventLoop::Close): what is still queued is destroyed
// unrun and further cross-thread posts to it fail (SpawnOn onto it reports UNAVAILABLE).
// Shutdown returns when every thread has ended.
// Errors: Create() fails like EventLoop::Create, or with the errno of thread creation.
#ifndef CORIO_LOOP_LOOP_GROUP_H_
#define CORIO_LOOP_LOOP_GROUP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/config.h"  // first: a clear error below C++20
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

  // Blocks until every thread has ended. Idempotent; a kCancel from another thread while a
  // kDrain waits turns the drain into a cancel (a grace period: drain, cancel on a deadline).
  void Shutdown(ShutdownMode mode = kDrain);

 private:
  // Shutdown phases, in order (the state only moves forward). kDraining, kDrainCancelling and
  // kCancelling are also the phase numbers loops mark themselves quiet in.
  enum State : int {
    kRunning = 0,
    kDraining = 1,         // waiting for the group to be quiet
    kDrainCancelling = 2,  // quiet: cancelling what is left, waiting for it
    kCancelling = 3,       // kCancel: cancelling every task, waiting for them
    kDone = 4,             // every loop ends
  };
  LoopGroup() = default;
  void ThreadMain(EventLoop* loop);
  bool PostTo(EventLoop& loop, Callback cb);
  // Moves the state from `from` to `to` (if it still is `from`) and wakes every loop.
  void Advance(int from, int to);
  // Whether every loop is quiet in `phase`, read consistently (see loop_group.cc).
  bool GroupQuiet(int phase) const;

  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
  std::atomic<int> state_{kRunning};
  std::atomic<int> posting_{0};  // Post() calls between their state check and their hand-off
  std::atomic<uint64_t> quiet_epoch_{0};  // moves whenever a loop turns quiet or busy
  std::mutex join_mu_;                    // one Shutdown() joins the threads at a time
};

}  // namespace corio

#endif  // CORIO_LOOP_LOOP_GROUP_H_
