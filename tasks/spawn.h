// Spawn: start a Task on the current event loop as an independent task (its own cancellation
// scope) and get a JoinHandle to await, cancel or detach it. asyncio's create_task.
//
//   corio::JoinHandle<absl::StatusOr<Page>> h = corio::Spawn(Fetch(url));
//   ...                                          // runs concurrently from the next loop turn
//   absl::StatusOr<Page> page = co_await std::move(h);
//   corio::Spawn(Log(event)).Detach();           // fire and forget; failures are reported
//
// Completion contract: the task's first step runs on a later loop turn (never inline in
// Spawn). Awaiting the handle resumes the awaiter exactly once, on the loop's thread, when the
// task has finished, with ResultOfT<T>: the task's Status/StatusOr as is, void as Status, any
// other T as StatusOr<T>; CancelledError if the task was cancelled before it ran; an exception
// that escaped the task is rethrown at the awaiter.
// Cancellation: Cancel() makes the task's current and future suspension points return
// CancelledError (a task cancelled before its first step never runs). Cancelling a task that
// is awaiting a JoinHandle cancels that child too, and still waits for it to finish.
//
// Threading: Spawn, JoinHandle and the task run on one loop's thread.
// Ownership: destroying a JoinHandle detaches the task: it runs to completion, and a failure
// (non-OK Status, or an exception) nobody will see goes to EventLoop::ReportError. A
// JoinHandle must not outlive its loop. Run() cancels and drains every task still alive when
// the main task finishes.
// Errors: Spawn without a running loop on this thread is a bug (checked): use corio::Run.
#ifndef CORIO_TASKS_SPAWN_H_
#define CORIO_TASKS_SPAWN_H_

#include <coroutine>
#include <cstddef>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio {
namespace tasks_internal {

// A root with the typed operations on it (kept here, not in every frame).
struct RootEntry {
  PromiseBase* root;
  const RootOps* ops;
};

// Roots, each with its typed operations, in a vector where each root knows its index
// (state.registry_index), so adding and removing are O(1). Removing moves the last root into
// the hole.
class RootList {
 public:
  void Add(PromiseBase* p, const RootOps* ops) {
    p->state.registry_index = static_cast<uint32_t>(roots_.size());
    roots_.push_back(RootEntry{p, ops});
  }
  // Returns the root's ops (nullptr if it was not listed).
  const RootOps* Remove(PromiseBase* p) {
    const uint32_t i = p->state.registry_index;
    if (i == RootState::kNotRegistered) return nullptr;
    const RootOps* ops = roots_[i].ops;
    roots_[i] = roots_.back();
    roots_[i].root->state.registry_index = i;
    roots_.pop_back();
    p->state.registry_index = RootState::kNotRegistered;
    return ops;
  }
  // The ops of a listed root.
  const RootOps* OpsOf(const PromiseBase* p) const { return roots_[p->state.registry_index].ops; }
  size_t size() const { return roots_.size(); }
  bool empty() const { return roots_.empty(); }
  const RootEntry& back() const { return roots_.back(); }
  std::vector<RootEntry>::const_iterator begin() const { return roots_.begin(); }
  std::vector<RootEntry>::const_iterator end() const { return roots_.end(); }

 private:
  std::vector<RootEntry> roots_;
};

// The live spawned tasks of one loop (EventLoop::Local, reached with RegistryOf), except group
// children (their group lists them). The loop's TaskHost: LoopGroup cancels and drains them.
class Registry final : public RootList, public EventLoop::TaskHost {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  // Destroys the frames of detached tasks still alive (the loop is going away); tasks some
  // handle still refers to are left to it.
  virtual ~Registry();

  void Attach(EventLoop& loop);
  bool attached() const { return loop_ != nullptr; }
  // Adds a root, cancelling it at once if this loop is shutting its tasks down.
  void AddRoot(PromiseBase* p, const RootOps* ops);
  void CancelAll();
  // While on, every root added is cancelled as it is added (it never runs its body).
  void set_cancel_new(bool on) { cancel_new_ = on; }

  // EventLoop::TaskHost
  size_t live_tasks() const override { return size(); }
  void CancelAllTasks() override {
    cancel_new_ = true;
    CancelAll();
  }

 private:
  EventLoop* loop_ = nullptr;
  bool cancel_new_ = false;
};

// The loop's registry of live roots (created and attached on first use).
inline Registry& RegistryOf(EventLoop& loop) {
  Registry& r = loop.Local<Registry>();
  if (!r.attached()) r.Attach(loop);
  return r;
}

// "UnknownError: task threw std::runtime_error: boom".
absl::Status ExceptionToStatus(const std::exception_ptr& e);

template <typename T>
struct IsStatusOr : std::false_type {};
template <typename U>
struct IsStatusOr<absl::StatusOr<U>> : std::true_type {};

template <typename T>
absl::Status OutcomeOf(Promise<T>& p) {
  if (p.state.skipped) return absl::CancelledError("task cancelled before it started");
  if (p.exception) return ExceptionToStatus(p.exception);
  if constexpr (std::is_same_v<T, absl::Status>) {
    return p.value;
  } else if constexpr (IsStatusOr<T>::value) {
    return p.value.status();
  } else {
    return absl::OkStatus();
  }
}

template <typename T>
struct OpsFor {
  static absl::Status Outcome(PromiseBase* p) { return OutcomeOf(static_cast<Promise<T>&>(*p)); }
  static void Destroy(PromiseBase* p) {
    std::coroutine_handle<Promise<T>>::from_promise(static_cast<Promise<T>&>(*p)).destroy();
  }
  static constexpr RootOps kOps = {&Outcome, &Destroy};
};

// The JoinHandle result of a finished root; rethrows an escaped exception.
template <typename T>
ResultOfT<T> TakeResult(Promise<T>& p) {
  if (p.state.skipped) return absl::CancelledError("task cancelled before it started");
  if (p.exception) std::rethrow_exception(p.exception);
  if constexpr (std::is_void_v<T>) {
    return absl::OkStatus();
  } else {
    return ResultOfT<T>(p.TakeValue());
  }
}

// Makes the frame a root on `loop` and schedules its first step. Without an observer it is
// registered in the loop's registry with `ops`; with one, the observer lists it.
void StartRoot(EventLoop& loop, PromiseBase* p, std::coroutine_handle<> h, const RootOps* ops,
               ChildObserver* observer);
// Reports a detached task's failure (not cancellation) to the current loop's error handler.
void ReportDetachedFailure(const absl::Status& outcome);

}  // namespace tasks_internal

template <typename T>
class [[nodiscard]] JoinHandle {
 public:
  using Promise = tasks_internal::Promise<T>;
  using Handle = std::coroutine_handle<Promise>;

  JoinHandle() = default;
  explicit JoinHandle(Handle h) : h_(h) {}
  JoinHandle(JoinHandle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      Detach();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  ~JoinHandle() { Detach(); }

  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_ && h_.promise().state.done; }

  // Requests cancellation (sticky; a no-op once the task finished).
  void Cancel() {
    if (h_) tasks_internal::RequestCancel(&h_.promise());
  }

  // Lets the task run on its own; its failure, if any, is reported to the loop.
  void Detach() {
    if (!h_) return;
    Promise& p = h_.promise();
    p.state.has_handle = false;
    if (p.state.done) {
      tasks_internal::ReportDetachedFailure(tasks_internal::OutcomeOf(p));
      h_.destroy();
    } else {
      p.state.detached = true;
    }
    h_ = nullptr;
  }

  // The result of a finished task (precondition: done()), without suspending.
  ResultOfT<T> TakeResult() && {
    CORIO_CHECK_MSG(done(), "JoinHandle::TakeResult before the task finished");
    Handle h = std::exchange(h_, nullptr);
    struct Destroy {
      Handle h;
      ~Destroy() { h.destroy(); }
    } destroy{h};
    return tasks_internal::TakeResult(h.promise());
  }

  struct Awaiter : tasks_internal::CancelHandler {
    explicit Awaiter(Handle child) : CancelHandler{&OnCancel}, h(child) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (!h) return;
      Promise& p = h.promise();
      if (p.state.done) {
        h.destroy();
      } else {  // the awaiting frame is being destroyed: let the child finish on its own
        p.continuation = nullptr;  // (a JoinHandle's child has no observer)
        p.state.has_handle = false;
        p.state.detached = true;
      }
    }
    bool await_ready() const noexcept { return h.promise().state.done; }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> caller) noexcept {
      h.promise().continuation = caller;
      parent = tasks_internal::RootOf(caller);
      if (tasks_internal::IsCancelled(parent)) {
        tasks_internal::RequestCancel(&h.promise());  // a cancel before we got here still counts
      } else {
        tasks_internal::Arm(parent, this);
      }
      return true;
    }
    ResultOfT<T> await_resume() {
      tasks_internal::Disarm(parent, this);
      return tasks_internal::TakeResult(h.promise());
    }
    static void OnCancel(tasks_internal::CancelHandler* self) {
      // Propagate to the child and keep waiting for it (structured: no orphan).
      tasks_internal::RequestCancel(&static_cast<Awaiter*>(self)->h.promise());
    }

    Handle h;
    tasks_internal::PromiseBase* parent = nullptr;
  };

  Awaiter operator co_await() && {
    CORIO_CHECK_MSG(h_, "awaiting an empty JoinHandle");
    return Awaiter(std::exchange(h_, nullptr));
  }

 private:
  Handle h_ = nullptr;
};

// Starts `task` on `loop` (call on that loop's thread, running or not). A loop that is shutting
// its tasks down (LoopGroup::Shutdown) cancels it at once: its body never runs.
template <typename T>
JoinHandle<T> Spawn(EventLoop& loop, Task<T> task) {
  auto h = task.Release();
  CORIO_CHECK_MSG(h, "Spawn of an empty Task");
  tasks_internal::StartRoot(loop, &h.promise(), h, &tasks_internal::OpsFor<T>::kOps, nullptr);
  return JoinHandle<T>(h);
}

// Starts `task` on the loop running on this thread.
template <typename T>
JoinHandle<T> Spawn(Task<T> task) {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr, "corio::Spawn: no event loop is running on this thread");
  return Spawn(*loop, std::move(task));
}

}  // namespace corio

#endif  // CORIO_TASKS_SPAWN_H_
