// SpawnOn: start a task on a given event loop (one of a LoopGroup's, say) from any thread, and
// get a RemoteHandle to await its result from a task on any loop, block on it from a thread
// that runs no loop, or cancel it from any thread (a gRPC callback cancelling a fetch).
//
//   corio::EventLoop& loop = group->Next();
//   corio::RemoteHandle<absl::StatusOr<Page>> h = corio::SpawnOn(loop, Fetch(url));
//   corio::RemoteCanceller cancel = h.canceller();     // copyable; Cancel() from any thread
//   absl::StatusOr<Page> page = co_await std::move(h); // in a task, on any loop
//   absl::StatusOr<Page> page = std::move(h).Wait();   // or: block a thread that runs no loop
//
// Completion contract: the task is posted to `loop` and starts there on a later turn (never
// inline, also when `loop` is the caller's), as a root task of that loop (its own cancellation
// scope; LoopGroup shutdown cancels and drains it). Its result is ResultOfT<T> as for Spawn:
// Status/StatusOr as is, void as Status, any other T as StatusOr<T>; an exception escaping it
// is rethrown where the result is taken. Awaiting resumes the awaiting task exactly once, on
// its own loop's thread (never on `loop`'s, unless that is its own), after the task finished
// (a draining LoopGroup looks at all its loops together, so it waits for the task as long as
// it works). Cancelling the awaiting task cancels the remote one and keeps
// waiting for it (structured: no orphan); the result is then what the task returned (usually
// CANCELLED). Wait() blocks until the task finished.
// Cancellation: Cancel() (or a canceller's) may come from any thread at any time, also before
// the task started (its body then never runs: CANCELLED "cancelled before it started") or
// after it finished (no effect). It is delivered on `loop`'s thread, as Spawn's Cancel is.
// Shutdown: if `loop` is closed (a LoopGroup's loop whose thread ended) or destroyed before the
// task started, the result is UNAVAILABLE ("SpawnOn: the event loop shut down before the task
// started"); a loop destroyed while the task is suspended gives UNAVAILABLE too. A LoopGroup
// shutting down cancels the task and the result is the task's own.
// Threading: SpawnOn, Cancel, done(), canceller() and destroying a handle: any thread.
// co_await: from a task on any loop. Wait(): from a thread that runs no loop (checked; a loop
// blocked in Wait() could never run what it waits for).
// Ownership: `loop` runs and owns the task (its frame, its parameters); the handle shares only
// its completion state. Destroying an unawaited handle detaches the task: it runs to the end
// and a failure nobody will see (not a cancellation) is reported to `loop`'s error handler.
// The Task object is destroyed on `loop`'s thread, or on the caller's if `loop` refused it.
#ifndef CORIO_TASKS_SPAWN_ON_H_
#define CORIO_TASKS_SPAWN_ON_H_

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {
namespace tasks_internal {

// Completion state shared by a RemoteHandle, its cancellers and the task's runner on the
// target loop.
class RemoteStateBase : public std::enable_shared_from_this<RemoteStateBase> {
 public:
  RemoteStateBase() = default;
  RemoteStateBase(const RemoteStateBase&) = delete;
  RemoteStateBase& operator=(const RemoteStateBase&) = delete;
  virtual ~RemoteStateBase() = default;

  // Any thread; once.
  void Cancel();
  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  // --- the awaiting side ---
  // Registers the task of `h` (on the calling thread's running loop) to be resumed when the
  // result is in. Returns false, registering nothing, if it already is.
  bool Await(std::coroutine_handle<> h);
  // The awaiting frame is going away before it was resumed.
  void Unawait();
  // Blocks until done (no loop may run on this thread: checked).
  void BlockUntilDone();
  // The handle is gone: a failure nobody took is reported to the target loop.
  void Detach();

  // --- the target loop's side ---
  void set_target(LoopHandle target) { target_ = std::move(target); }
  // Start-of-run bookkeeping, on the target loop: the runner's root, for cancels to reach.
  void Started(PromiseBase* root);
  bool cancel_requested() const { return cancel_requested_.load(std::memory_order_acquire); }

 protected:
  // Marks the result in and wakes whoever waits; if the handle was already dropped and
  // `task_failed` may be true, reports the task's failure to the target loop (the calling
  // thread's). Called with the result stored, under mu_ (released here).
  void Finish(std::unique_lock<std::mutex> lock, bool task_outcome);
  // The result is "taken" (the handle consumed it).
  void MarkTaken() { taken_ = true; }
  virtual absl::Status FailureLocked() const = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;               // guarded by mu_
  bool taken_ = false;              // guarded by mu_
  bool detached_ = false;           // guarded by mu_
  std::coroutine_handle<> waiter_;  // guarded by mu_
  LoopHandle waiter_loop_;          // guarded by mu_
  std::atomic<bool> cancel_requested_{false};
  LoopHandle target_;            // set before the task is posted, then constant
  PromiseBase* root_ = nullptr;  // target loop thread only: the runner while it runs
};

template <typename T>
class RemoteState final : public RemoteStateBase {
 public:
  using Result = ResultOfT<T>;

  // On the target loop: the task's outcome.
  void Complete(Result r) {
    std::unique_lock<std::mutex> lock(mu_);
    if (done_) return;
    result_.emplace(std::move(r));
    root_ = nullptr;
    Finish(std::move(lock), /*task_outcome=*/true);
  }
  void Fail(std::exception_ptr e) {
    std::unique_lock<std::mutex> lock(mu_);
    if (done_) return;
    exception_ = e;
    root_ = nullptr;
    Finish(std::move(lock), /*task_outcome=*/true);
  }
  // The runner's frame went away without a result (never started, or destroyed with its loop).
  void Abandon(bool started) {
    std::unique_lock<std::mutex> lock(mu_);
    if (done_) return;
    root_ = nullptr;
    if (started) {
      result_.emplace(
          absl::UnavailableError("SpawnOn: the event loop was destroyed while the task ran"));
    } else if (cancel_requested()) {
      result_.emplace(absl::CancelledError("SpawnOn: task cancelled before it started"));
    } else {
      result_.emplace(
          absl::UnavailableError("SpawnOn: the event loop shut down before the task started"));
    }
    Finish(std::move(lock), /*task_outcome=*/false);  // no task failed: nothing to report
  }

  // Precondition: done. Rethrows an escaped exception.
  Result Take() {
    std::lock_guard<std::mutex> lock(mu_);
    CORIO_CHECK_MSG(done_ && !taken_, "RemoteHandle: result taken before it was in, or twice");
    MarkTaken();
    if (exception_) std::rethrow_exception(exception_);
    return std::move(*result_);
  }

 private:
  static absl::Status StatusOf(const Result& r) {
    if constexpr (std::is_same_v<Result, absl::Status>) {
      return r;
    } else {
      return r.status();
    }
  }
  absl::Status FailureLocked() const override {
    if (exception_) return ExceptionToStatus(exception_);
    return result_.has_value() ? StatusOf(*result_) : absl::OkStatus();
  }

  std::optional<Result> result_;  // guarded by mu_
  std::exception_ptr exception_;  // guarded by mu_
};

// Owned by the runner's frame (a parameter): completes the state if the frame goes away
// without a result.
template <typename T>
class RemoteCompleter {
 public:
  explicit RemoteCompleter(std::shared_ptr<RemoteState<T>> s) : state_(std::move(s)) {}
  RemoteCompleter(RemoteCompleter&& other) noexcept
      : state_(std::move(other.state_)), started_(other.started_) {}
  RemoteCompleter(const RemoteCompleter&) = delete;
  RemoteCompleter& operator=(const RemoteCompleter&) = delete;
  ~RemoteCompleter() {
    if (state_ != nullptr) state_->Abandon(started_);
  }
  void Started() { started_ = true; }
  RemoteState<T>& state() { return *state_; }

 private:
  std::shared_ptr<RemoteState<T>> state_;
  bool started_ = false;
};

template <typename T>
Task<void> RunRemote(RemoteCompleter<T> completer, Task<T> task) {
  completer.Started();
  RemoteState<T>& state = completer.state();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      state.Complete(absl::OkStatus());
    } else {
      T value = co_await std::move(task);
      state.Complete(ResultOfT<T>(std::move(value)));
    }
  } catch (...) {
    state.Fail(std::current_exception());
  }
}

// Runs on the target loop: spawns the runner there as a detached root.
struct StartRemote {
  std::shared_ptr<RemoteStateBase> state;
  Task<void> runner;
  void operator()();
};

}  // namespace tasks_internal

// Cancels a SpawnOn task from any thread. Copyable; outlives the handle and the task safely.
class RemoteCanceller {
 public:
  RemoteCanceller() = default;
  // Requests cancellation (sticky; a no-op once the task finished or for an empty canceller).
  void Cancel() const {
    if (state_ != nullptr) state_->Cancel();
  }

 private:
  template <typename T>
  friend class RemoteHandle;
  explicit RemoteCanceller(std::shared_ptr<tasks_internal::RemoteStateBase> s)
      : state_(std::move(s)) {}
  std::shared_ptr<tasks_internal::RemoteStateBase> state_;
};

template <typename T>
class [[nodiscard]] RemoteHandle {
 public:
  using Result = ResultOfT<T>;
  using State = tasks_internal::RemoteState<T>;

  RemoteHandle() = default;
  RemoteHandle(RemoteHandle&&) noexcept = default;
  RemoteHandle& operator=(RemoteHandle&& other) noexcept {
    if (this != &other) {
      Detach();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~RemoteHandle() { Detach(); }

  bool valid() const { return state_ != nullptr; }
  // Whether the result is in. Any thread.
  bool done() const { return state_ != nullptr && state_->done(); }
  // Any thread.
  void Cancel() const {
    if (state_ != nullptr) state_->Cancel();
  }
  RemoteCanceller canceller() const { return RemoteCanceller(state_); }
  // Lets the task run on its own; a failure is reported to its loop's error handler.
  void Detach() {
    if (state_ != nullptr) std::exchange(state_, nullptr)->Detach();
  }

  // Blocks the calling thread (which must run no loop) until the task finished.
  Result Wait() && {
    CORIO_CHECK_MSG(state_ != nullptr, "RemoteHandle::Wait on an empty handle");
    state_->BlockUntilDone();
    return std::exchange(state_, nullptr)->Take();
  }

  class Awaiter : tasks_internal::CancelHandler {
   public:
    explicit Awaiter(std::shared_ptr<State> s) : CancelHandler{&OnCancel}, state_(std::move(s)) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (suspended_ && !resumed_) state_->Unawait();  // the frame went away first
      tasks_internal::Disarm(parent_, this);
    }
    bool await_ready() const { return state_->done(); }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!state_->Await(h)) return false;  // finished meanwhile: take it now
      suspended_ = true;
      parent_ = tasks_internal::RootOf(h);
      if (tasks_internal::IsCancelled(parent_)) {
        state_->Cancel();  // a cancel before we got here still counts; keep waiting
      } else {
        tasks_internal::Arm(parent_, this);
      }
      return true;
    }
    Result await_resume() {
      resumed_ = true;
      tasks_internal::Disarm(parent_, this);
      return state_->Take();
    }

   private:
    static void OnCancel(tasks_internal::CancelHandler* self) {
      // Pass it on and keep waiting for the task to finish (structured: no orphan).
      static_cast<Awaiter*>(self)->state_->Cancel();
    }
    std::shared_ptr<State> state_;
    tasks_internal::PromiseBase* parent_ = nullptr;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  Awaiter operator co_await() && {
    CORIO_CHECK_MSG(state_ != nullptr, "awaiting an empty RemoteHandle");
    return Awaiter(std::exchange(state_, nullptr));
  }

 private:
  template <typename U>
  friend RemoteHandle<U> SpawnOn(EventLoop& loop, Task<U> task);
  explicit RemoteHandle(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

// Starts `task` on `loop` from any thread. See the contract at the top of this file.
template <typename T>
RemoteHandle<T> SpawnOn(EventLoop& loop, Task<T> task) {
  CORIO_CHECK_MSG(task.valid(), "SpawnOn of an empty Task");
  auto state = std::make_shared<tasks_internal::RemoteState<T>>();
  state->set_target(loop.handle());
  Task<void> runner =
      tasks_internal::RunRemote<T>(tasks_internal::RemoteCompleter<T>(state), std::move(task));
  // Refused (closed or destroyed loop): the callback, and with it the runner's frame, is
  // destroyed here, which completes the state with UNAVAILABLE.
  (void)loop.handle().Post(tasks_internal::StartRemote{state, std::move(runner)});
  return RemoteHandle<T>(std::move(state));
}

}  // namespace corio

#endif  // CORIO_TASKS_SPAWN_ON_H_
