// Dispatcher: runs the fetch service's fetches as corio tasks on the loops of a LoopGroup, one
// FetchBackend per loop, for callers on any thread (gRPC's), with a bound on the fetches in
// flight across the whole server. It is the bridge between gRPC's threads and corio's loops;
// it knows nothing of gRPC.
//
//   auto d = corio::fetch::Dispatcher::Create(*group, factory, {.max_concurrent_fetches = 64});
//   if ((*d)->TryReserve(1) == 0) return RESOURCE_EXHAUSTED;
//   Ticket t = (*d)->Start({std::move(request), deadline, absl::Now()},
//                          [](absl::Status s, v1::FetchResponse r) { ... on a loop thread ... });
//   (*d)->Cancel(t);                 // from any thread; the fetch ends with CANCELLED
//
// Completion contract: `done` runs exactly once, on the thread of the loop the fetch ran on,
// after the fetch's task has finished its work: with the backend's status and response
// (timing.queued filled in), CANCELLED after Cancel() or Stop(). Never inline in Start().
// Threading: TryReserve, Release, Start and Cancel may be called from any thread, including
// the group's loops. Stop (and the destructor) must not run on a loop of the group.
// Ownership: the group must outlive the dispatcher and keep running until Stop() returned.
// Stop cancels every fetch, waits for them to end, and destroys the backends on their loops.
// Errors: Create fails with the first backend factory error.
#ifndef CORIO_NET_FETCH_DISPATCHER_H_
#define CORIO_NET_FETCH_DISPATCHER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "loop/loop_group.h"
#include "net/fetch/backend.h"
#include "net/fetch/fetch.pb.h"
#include "tasks/spawn.h"

namespace corio::fetch {

class Dispatcher {
 public:
  struct Options {
    int max_concurrent_fetches = 1000;  // slots TryReserve hands out
  };
  struct Job {
    v1::FetchRequest request;
    absl::Time deadline = absl::InfiniteFuture();  // wall clock (absl::Now()), as gRPC's
    absl::Time queued_since = absl::Now();         // for timing.queued
  };
  using Done = absl::AnyInvocable<void(absl::Status status, v1::FetchResponse response) &&>;
  struct Ticket {
    uint32_t worker = 0;
    uint64_t id = 0;
  };

  static absl::StatusOr<std::unique_ptr<Dispatcher>> Create(LoopGroup& group,
                                                            BackendFactory factory,
                                                            Options options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Reserves up to `want` of the free slots and returns how many it got (0: none free, or
  // callers of ReserveOrWait are waiting for one: they come first).
  int TryReserve(int want);
  // Gives `n` reserved slots back; a caller waiting in ReserveOrWait gets one of them.
  void Release(int n);
  // Reserves one slot: true when it got one now. Otherwise false, and `granted` runs later,
  // once, with the slot reserved for the caller, on one of the group's loops (never inline in
  // this call or in Release, so it may take locks its caller holds); it is destroyed unrun if
  // the dispatcher stops first. Waiters are served in order.
  using SlotGranted = absl::AnyInvocable<void() &&>;
  bool ReserveOrWait(SlotGranted granted);
  int in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int capacity() const { return options_.max_concurrent_fetches; }
  // Callers of ReserveOrWait still waiting (for tests and metrics).
  int slot_waiters() const { return slot_waiters_.load(std::memory_order_relaxed); }
  // Fetches running or queued on the loops now (for tests and metrics).
  int running() const { return running_.load(std::memory_order_relaxed); }

  // Blocks until no fetch runs and no slot is reserved, or `timeout` passed (false then).
  // For tests and shutdown diagnostics.
  bool WaitForIdle(absl::Duration timeout);

  // Runs the job on the next loop (round robin).
  Ticket Start(Job job, Done done);
  // Runs the job on loop `worker` (< workers()), e.g. every fetch of one call on one loop.
  Ticket Start(Job job, Done done, uint32_t worker);
  // The next loop in round-robin order, and how many there are.
  uint32_t PickWorker();
  uint32_t workers() const { return static_cast<uint32_t>(workers_.size()); }
  // Cancels the fetch if it is still running (a no-op otherwise).
  void Cancel(Ticket ticket);

  // Cancels every fetch, waits for all to end, destroys the backends. Idempotent.
  void Stop();

 private:
  struct Entry {
    JoinHandle<void> handle;
    bool started = false;    // the task took its first step (Cancel reaches it)
    bool cancelled = false;  // cancelled before it started: it ends at once
  };
  struct Worker {
    EventLoop* loop = nullptr;
    // The rest is for the loop's thread only.
    std::unique_ptr<FetchBackend> backend;
    absl::flat_hash_map<uint64_t, Entry> tasks;
    bool stopping = false;
    bool retired = false;  // stopped with no task left; its backend is gone
  };

  explicit Dispatcher(Options options) : options_(options) {}
  Task<void> Run(Worker* w, uint64_t id, Job job, Done done);
  void Forget(Worker* w, uint64_t id);
  void MaybeRetire(Worker* w);  // loop thread: the last task of a stopping worker ended

  void NotifyIdleWaiters();
  int TryTake(int want);  // TryReserve, waiters or not
  void GrantWaiters();    // free slots to waiters, while both last

  Options options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int> idle_waiters_{0};
  std::atomic<int> in_use_{0};
  std::atomic<int> running_{0};
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint32_t> next_worker_{0};

  std::atomic<int> slot_waiters_{0};  // slot_waiters_list_.size(), read without slot_mu_
  std::mutex slot_mu_;
  std::deque<SlotGranted> slot_waiters_list_;  // guarded by slot_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  int retired_ = 0;  // workers whose backend is gone (guarded by mu_)
  bool stopped_ = false;  // guarded by mu_
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_DISPATCHER_H_
