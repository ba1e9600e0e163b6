// EventLoop: the reactor. One loop per thread runs callbacks, timers and fd readiness handlers.
// It is asyncio's event loop for C++; the coroutine layer (//tasks) is built on it.
//
//   auto loop = corio::EventLoop::Create().value();
//   loop->CallSoon([] { std::puts("first"); });
//   corio::TimerHandle t = loop->CallLater(absl::Milliseconds(10), [&] { loop->Stop(); });
//   std::thread([&] { loop->CallSoonThreadSafe([] { std::puts("from another thread"); });
//   }).detach(); CHECK_OK(loop->Run());   // until Stop()
//
// Scheduling: each turn ("tick") polls I/O (without blocking when work is ready), runs the
// timers that are due, then runs ready callbacks in FIFO order, up to a fairness budget
// (Options::callbacks_per_tick) that bounds how long I/O waits behind a stream of callbacks.
// Timers live in a hierarchical timing wheel (O(1) add and cancel; chosen over a 4-ary heap by
// loop:timer_queue_benchmark) whose slots are Options::timer_slack wide: timers never fire
// early, timers close together share one wake-up, and timers due in the same slot run in the
// order they were scheduled.
//
// Threading: a loop belongs to the thread that runs it. CallSoonThreadSafe() and Stop() may be
// called from any thread, at any time while the loop object exists (also while it is stopping
// or stopped: the callback then runs when the loop next runs, or is destroyed with the loop).
// A LoopHandle (handle()) posts to the loop from any thread even after the loop is gone, and
// a WorkGuard tells the loop that work is in flight elsewhere (a blocking job, a reply another
// loop will post). Everything else is for the loop's own thread (or any thread while the loop
// is not running).
// Ownership: the loop owns queued callbacks and timers; destroying it (or Close()) destroys
// them without running them. Destruction also detaches FdWatchers (they go quiet), removes
// signal handlers and destroys loop-local state. Destroying a running loop is a bug (checked).
// Errors: Create() fails with the errno of epoll/io_uring setup. Run*() fail with
// FAILED_PRECONDITION when the loop is already running or another loop runs on this thread,
// and with the poller's error if polling itself fails. A callback that throws does not stop
// the loop: the exception is reported to the error handler as INTERNAL.
#ifndef CORIO_LOOP_EVENT_LOOP_H_
#define CORIO_LOOP_EVENT_LOOP_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/callback.h"
#include "loop/clock.h"
#include "loop/io_events.h"
#include "loop/poller.h"
#include "loop/ready_queue.h"
#include "loop/timer_wheel.h"

namespace corio {

class EventLoop;
class FdWatcher;

namespace loop_internal {
class SignalSet;
struct RemoteState;
}  // namespace loop_internal

// Tells a loop that work is in flight on its behalf elsewhere: a blocking job whose result will
// be posted back, a reply another loop will post. While any guard is held the loop counts as
// having pending work (EventLoop::HasPendingWork), so LoopGroup::Shutdown(kDrain) waits for it.
// Move-only RAII; create with LoopHandle::HoldWork(). Any thread; safe after the loop is gone.
// Release it after posting the result, not before.
class WorkGuard {
 public:
  WorkGuard() = default;
  WorkGuard(WorkGuard&& other) noexcept = default;
  WorkGuard& operator=(WorkGuard&& other) noexcept {
    if (this != &other) {
      Release();
      remote_ = std::move(other.remote_);
    }
    return *this;
  }
  ~WorkGuard() { Release(); }
  void Release();
  bool held() const { return remote_ != nullptr; }

 private:
  friend class LoopHandle;
  explicit WorkGuard(std::shared_ptr<loop_internal::RemoteState> remote);
  std::shared_ptr<loop_internal::RemoteState> remote_;
};

// A reference to a loop that any thread may hold and use, also after the loop is destroyed or
// closed: Post() then fails instead of touching freed memory. Copyable (a shared pointer to
// the loop's cross-thread queue).
//
//   corio::LoopHandle home = corio::EventLoop::Current()->handle();
//   pool.Submit([home, guard = home.HoldWork()]() mutable {
//     Result r = Compute();
//     home.Post([r] { Deliver(r); });   // false (and the callback destroyed) if the loop is gone
//   });                                 // the guard is released after the post
class LoopHandle {
 public:
  LoopHandle() = default;

  // Runs `cb` on the loop's thread on a later turn (never inline). Returns false, destroying
  // `cb` unrun on the calling thread, when the handle is empty or the loop was closed or
  // destroyed. From the loop's own running thread this is CallSoon; elsewhere it is
  // CallSoonThreadSafe.
  bool Post(Callback cb) const;
  // Holds the loop's pending work until the guard is released. An empty guard if the handle
  // is empty.
  WorkGuard HoldWork() const;
  // Whether this is the loop running on the calling thread.
  bool IsCurrent() const;

  bool valid() const { return remote_ != nullptr; }
  friend bool operator==(const LoopHandle& a, const LoopHandle& b) {
    return a.remote_ == b.remote_;
  }

 private:
  friend class EventLoop;
  explicit LoopHandle(std::shared_ptr<loop_internal::RemoteState> remote)
      : remote_(std::move(remote)) {}
  std::shared_ptr<loop_internal::RemoteState> remote_;
};

// A pending CallLater/CallAt timer. Copyable; Cancel() on the loop's thread. A handle must not
// be used after its loop is destroyed.
class TimerHandle {
 public:
  TimerHandle() = default;
  // Returns true if the timer was pending and is now cancelled (its callback is destroyed
  // without running); false if it already ran, was cancelled, or the handle is empty.
  bool Cancel();
  bool pending() const;

 private:
  friend class EventLoop;
  TimerHandle(EventLoop* loop, loop_internal::TimerWheel::Id id) : loop_(loop), id_(id) {}
  EventLoop* loop_ = nullptr;
  loop_internal::TimerWheel::Id id_;
};

class EventLoop {
 public:
  enum class Backend { kEpoll, kIoUring };

  struct Options {
    // Default: $CORIO_LOOP_BACKEND ("epoll" or "io_uring") if set, else epoll.
    std::optional<Backend> backend;
    // Default (nullptr): SystemClock(). Not owned; must outlive the loop.
    Clock* clock = nullptr;
    // Timer wake-ups are rounded up to multiples of this (0: exact), so timers close together
    // share one wake-up. 250 us keeps 100k timers spread over 100 ms under 450 ns of CPU each
    // on both backends (loop:event_loop_benchmark); timers still never fire early.
    absl::Duration timer_slack = absl::Microseconds(250);
    // Fairness: I/O is polled at least once per this many callbacks.
    int callbacks_per_tick = 256;
    // Debug mode: callbacks running longer than this are reported (0: off), like asyncio's
    // slow-callback warning. Default reporter: one line on stderr.
    absl::Duration slow_callback_threshold = absl::ZeroDuration();
    absl::AnyInvocable<void(absl::Duration took, const char* callback_type)> on_slow_callback;
  };

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(Options options);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop running on the calling thread, or nullptr.
  static EventLoop* Current();

  // Runs `f` on a later turn, after callbacks already queued. Loop thread only. Never runs
  // `f` inline.
  template <typename F>
  void CallSoon(F&& f) {
    ready_.Push(Callback(std::forward<F>(f)));
  }

  // Like CallSoon, from any thread. Wakes the loop if it is sleeping (one eventfd write per
  // burst of calls). Returns false, destroying `cb` unrun on the calling thread, once the loop
  // is closed (Close()).
  bool CallSoonThreadSafe(Callback cb);

  // A handle other threads may keep and post through, also after this loop is gone.
  LoopHandle handle() const { return LoopHandle(remote_); }

  // Runs `f` once, at or after the deadline (never before), on this loop's thread. Loop thread
  // only. Callables up to 56 bytes are stored without allocation.
  template <typename F>
  TimerHandle CallLater(absl::Duration delay, F&& f) {
    return AddTimer(DelayToDeadline(delay), TimerCallback(std::forward<F>(f)));
  }
  template <typename F>
  TimerHandle CallAt(absl::Time deadline, F&& f) {
    return AddTimer(TimeToDeadline(deadline), TimerCallback(std::forward<F>(f)));
  }
  absl::Time Now() const { return loop_internal::NanosToTime(NowNanos()); }

  // Runs until Stop().
  absl::Status Run();
  // Runs until done() returns true (checked before the first turn and after each turn), or
  // Stop().
  absl::Status RunUntil(absl::FunctionRef<bool()> done);
  // Runs turns until nothing is runnable without waiting: no ready callback, no due timer, no
  // ready fd. Never sleeps and never advances a virtual clock. For tests.
  absl::Status RunUntilIdle();
  // Ends the current turn after the running callback and makes the next one poll I/O even if
  // callbacks are ready (normally I/O is polled once per Options::callbacks_per_tick
  // callbacks). For I/O that yields to let its peers run: without
  // this, a yield lets only tasks that are already ready run, not those waiting for the I/O it
  // produced. Loop thread only.
  void PollIoSoon() { poll_requested_ = true; }
  // Makes Run*() return after the current turn. Any thread. A Stop() while the loop is not
  // running makes the next Run*() return after its first turn.
  void Stop();
  // Closes the loop to further work from other threads and drops what is pending: from now on
  // CallSoonThreadSafe and LoopHandle::Post return false, and every queued callback (cross-
  // thread ones included) and pending timer is destroyed unrun. Tasks still alive are not
  // touched: cancel and drain them first (LoopGroup does). The loop may still be run for its
  // own local work. Idempotent. Loop thread only, while the loop is not running.
  void Close();
  bool closed() const;

  // Errors that no one awaited (a detached task's failure, a callback's exception) go here.
  // Default: one line on stderr.
  void SetErrorHandler(absl::AnyInvocable<void(const absl::Status&)> handler);
  void ReportError(const absl::Status& error);

  // Runs `handler` on this loop's thread each time signal `signo` arrives (self-pipe: any
  // thread may receive it). One loop per signal per process; FAILED_PRECONDITION if another
  // loop has it, INVALID_ARGUMENT for SIGKILL/SIGSTOP/out-of-range numbers.
  absl::Status AddSignalHandler(int signo, absl::AnyInvocable<void()> handler);
  // Restores the previous disposition. NOT_FOUND if this loop has no handler for `signo`.
  absl::Status RemoveSignalHandler(int signo);

  // State owned by the loop for layers above it: one T per loop and type, created on first
  // use, destroyed (newest first) before pending callbacks when the loop is destroyed. Loop
  // thread only (or while the loop is not running).
  //
  //   Cache& cache = loop.Local<Cache>();                       // default-constructed
  //   absl::StatusOr<dns::Resolver*> r = loop.Local<dns::Resolver>(
  //       [&] { return dns::Resolver::Create(loop, options); });  // fallible factory
  template <typename T>
  T& Local() {
    if (T* found = FindLocal<T>()) return *found;
    T* obj = new T();
    AddLocal<T>(obj);
    return *obj;
  }
  // With a factory returning absl::StatusOr<std::unique_ptr<T>> (or absl::StatusOr<T> for a
  // movable T), called only when this loop has no T yet. Its error is returned and nothing is
  // stored, so a later call tries again.
  template <typename T, typename Factory>
  absl::StatusOr<T*> Local(Factory&& factory) {
    if (T* found = FindLocal<T>()) return found;
    auto made = std::forward<Factory>(factory)();
    if (!made.ok()) return made.status();
    T* obj;
    if constexpr (std::is_same_v<std::decay_t<decltype(*made)>, std::unique_ptr<T>>) {
      if (*made == nullptr) return absl::InternalError("EventLoop::Local: the factory made null");
      obj = made->release();
    } else {
      obj = new T(*std::move(made));
    }
    AddLocal<T>(obj);
    return obj;
  }
  // This loop's T, or nullptr if it has none yet.
  template <typename T>
  T* FindLocal() const {
    const void* key = &kLocalKey<T>;
    for (const LocalEntry& e : locals_) {
      if (e.key == key) return static_cast<T*>(e.obj);
    }
    return nullptr;
  }

  // For the task layer (//tasks installs one per loop): the loop's live tasks, so whoever shuts
  // the loop down (LoopGroup) can cancel them and wait for them without depending on //tasks.
  class TaskHost {
   public:
    virtual size_t live_tasks() const = 0;
    // Cancels every live task, and from now on every task started on this loop as it starts.
    virtual void CancelAllTasks() = 0;

   protected:
    ~TaskHost() = default;
  };
  void SetTaskHost(TaskHost* host) { task_host_ = host; }
  TaskHost* task_host() const { return task_host_; }

  const char* backend_name() const { return poller_->name(); }
  bool is_running() const { return running_; }
  bool IsInLoopThread() const { return Current() == this; }
  size_t ready_count() const { return ready_.size(); }
  size_t timer_count() const { return timers_.size(); }
  size_t fd_count() const { return active_fds_; }
  // Ready callbacks (cross-thread ones included), timers, fd watchers, or work held with a
  // WorkGuard (ToThread jobs, replies another loop will post). Tasks waiting on something none
  // of these will trigger (an Event nobody sets) are not pending work. Loop thread only.
  bool HasPendingWork() const;
  size_t outstanding_work() const;
  // Pending work (ready + timers + fds + guards), published each turn; any thread (LoopGroup).
  uint32_t load() const { return load_.load(std::memory_order_relaxed); }

 private:
  friend class TimerHandle;
  friend class FdWatcher;
  friend class LoopHandle;
  friend class LoopGroup;
  friend class loop_internal::SignalSet;

  struct FdSlot {
    int fd = -1;
    uint32_t gen = 0;
    uint32_t interest = 0;
    bool active = false;   // registered (the handler may run)
    bool release = false;  // stopped while its handler ran: free after it returns
    FdWatcher* watcher = nullptr;
    absl::AnyInvocable<void(uint32_t)> handler;
  };
  // One address per type, constant-initialized (no guard on the lookup path).
  template <typename T>
  static constexpr char kLocalKey = 0;
  template <typename T>
  void AddLocal(T* obj) {
    locals_.push_back(LocalEntry{&kLocalKey<T>, obj, [](void* p) { delete static_cast<T*>(p); }});
  }
  struct LocalEntry {
    const void* key;
    void* obj;
    void (*destroy)(void*);
  };

  EventLoop(Options options, std::unique_ptr<loop_internal::Poller> poller,
            std::shared_ptr<loop_internal::RemoteState> remote);

  TimerHandle AddTimer(int64_t deadline, TimerCallback cb) {
    return TimerHandle(this, timers_.Add(deadline, std::move(cb)));
  }
  int64_t DelayToDeadline(absl::Duration delay) const;
  static int64_t TimeToDeadline(absl::Time deadline);
  int64_t NowNanos() const {
    return system_clock_ ? loop_internal::MonotonicNanos()
                         : loop_internal::TimeToNanos(clock_->Now());
  }
  absl::Status RunLoop(int mode, absl::FunctionRef<bool()> done);
  absl::StatusOr<bool> Tick(bool never_block);
  absl::StatusOr<int> Poll(int64_t timeout_ns);
  void Dispatch(const loop_internal::PollEvent& ev);
  void DrainRemote();
  // Destroys every queued callback (cross-thread ones too if `remote`) and pending timer unrun.
  void DiscardPending(bool remote = false);

  // LoopGroup's shutdown (group-wide quiescence). A loop publishes that it had nothing left to
  // do in shutdown phase `phase`; the flag drops (and the group's epoch moves) the moment the
  // loop picks up cross-thread work again, before it drains that work.
  void JoinQuietGroup(std::atomic<uint64_t>* epoch) { quiet_epoch_ = epoch; }
  void MarkQuiet(int phase) {
    quiet_phase_.store(phase, std::memory_order_seq_cst);
    quiet_epoch_->fetch_add(1, std::memory_order_seq_cst);
  }
  int quiet_phase() const { return quiet_phase_.load(std::memory_order_seq_cst); }
  bool has_remote_work() const;  // any thread
  void ClearQuiet() {
    if (quiet_phase_.load(std::memory_order_relaxed) != 0) {
      quiet_phase_.store(0, std::memory_order_seq_cst);
      quiet_epoch_->fetch_add(1, std::memory_order_seq_cst);
    }
  }
  template <typename CallbackType>
  void RunCallback(CallbackType& cb);
  void ReportException();

  // FdWatcher support.
  absl::StatusOr<uint32_t> AddFd(int fd, uint32_t interest,
                                 absl::AnyInvocable<void(uint32_t)> handler, FdWatcher* watcher);
  absl::Status SetFdInterest(uint32_t slot, uint32_t interest);
  void RemoveFd(uint32_t slot);
  // Unregisters an active slot from the poller (unless `unregister` is false: its registration
  // was already replaced) and bumps its generation (events already fetched for it turn
  // stale); the slot itself stays allocated.
  void DeactivateSlot(uint32_t slot, bool unregister = true);
  void FreeSlot(uint32_t slot);
  // The poller token of a slot: gen << 32 | index.
  uint64_t SlotToken(uint32_t slot) const {
    return (static_cast<uint64_t>(fd_slots_[slot].gen) << 32) | slot;
  }

  Options options_;
  Clock* const clock_;
  const bool system_clock_;
  const int64_t slack_ns_;
  const int64_t slow_ns_;
  const int budget_;
  std::unique_ptr<loop_internal::Poller> poller_;

  loop_internal::ReadyQueue ready_;
  loop_internal::TimerWheel timers_;
  int since_poll_ = 0;           // callbacks run since the last poll
  bool poll_requested_ = false;  // PollIoSoon(): end this turn's callbacks, poll next
  bool running_ = false;
  std::array<loop_internal::PollEvent, 256> events_;

  std::deque<FdSlot> fd_slots_;  // deque: handlers stay put while new slots are added
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> fd_owner_;  // fd -> slot + 1 (0: none)
  size_t active_fds_ = 0;
  uint32_t dispatching_ = ~0u;  // slot whose handler is running

  // Cross-thread work and wake-up (a mutex-protected queue, an eventfd written only while the
  // loop is parked in the poller), shared with LoopHandles and WorkGuards.
  const std::shared_ptr<loop_internal::RemoteState> remote_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<uint32_t> load_{0};
  std::atomic<int> quiet_phase_{0};
  std::atomic<uint64_t>* quiet_epoch_ = nullptr;  // the group's; set before the loop runs

  absl::AnyInvocable<void(const absl::Status&)> error_handler_;
  std::unique_ptr<loop_internal::SignalSet> signals_;
  std::vector<LocalEntry> locals_;
  TaskHost* task_host_ = nullptr;
};

// Watches one fd for readiness on a loop. Move-only RAII handle: destroying it (or Stop())
// unregisters the fd. One watcher per open fd and loop: starting a second one while the first
// still watches is ALREADY_EXISTS. Stop the watcher before closing the fd; a watcher whose fd
// was closed first goes quiet, and a new watcher on the reused fd number works normally (on
// io_uring the reuse is recognised by the file's identity, so a closed eventfd replaced by
// another anonymous-inode fd at the same number counts as the same file: stop watchers first).
//
//   auto w = FdWatcher::Start(*loop, fd, io::kReadable, [&](uint32_t ready) { ... });
//
// The handler runs on the loop's thread with the ready bits (io::kError / io::kHangup are
// reported whatever the interest). It may call SetInterest() or Stop() on its own watcher,
// and start or stop others. Level-triggered by default: the handler runs again on the next
// turn while the fd stays ready; with io::kEdgeTriggered it runs once per transition.
class FdWatcher {
 public:
  using Handler = absl::AnyInvocable<void(uint32_t ready)>;

  FdWatcher() = default;
  FdWatcher(FdWatcher&& other) noexcept;
  FdWatcher& operator=(FdWatcher&& other) noexcept;
  ~FdWatcher() { Stop(); }

  // Loop thread only (or while the loop is not running). Errors: ALREADY_EXISTS if another
  // watcher of this loop watches the same open fd; the poller's (EBADF for a bad fd, EPERM for
  // regular files with epoll).
  static absl::StatusOr<FdWatcher> Start(EventLoop& loop, int fd, uint32_t interest,
                                         Handler handler);
  absl::Status SetInterest(uint32_t interest);
  void Stop();

  bool active() const { return loop_ != nullptr; }
  EventLoop* loop() const { return loop_; }

 private:
  friend class EventLoop;
  EventLoop* loop_ = nullptr;
  uint32_t slot_ = 0;
};

}  // namespace corio

#endif  // CORIO_LOOP_EVENT_LOOP_H_
