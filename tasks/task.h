// Task<T>: a lazy, move-only coroutine that produces a T. The unit of asynchronous work.
//
//   corio::Task<int> Answer() { co_return 42; }
//   corio::Task<absl::StatusOr<std::string>> Greet(std::string name) {
//     int n = co_await Answer();                // runs Answer() now, resumes here after
//     CORIO_CO_RETURN_IF_ERROR(co_await corio::Sleep(absl::Milliseconds(n)));
//     co_return absl::StrCat("hello ", name);
//   }
//
// A Task does nothing until it is awaited (`co_await task`), spawned (corio::Spawn) or run
// (corio::Run). Awaiting starts it and resumes the awaiter when it finishes, by symmetric
// transfer through corio's trampoline (loop/resume.h): a chain of a million nested awaits uses
// constant stack in every build mode.
//
// GCC 12 pitfalls (compiler bugs, fixed in later GCCs; clang is unaffected):
//  - a co_await inside an `if` or `switch` condition makes GCC 12 drop the whole coroutine
//    body (gtest's EXPECT_*/ASSERT_* macros expand to such conditions too). Bind the result
//    first: `absl::Status s = co_await x; if (!s.ok()) ...`.
//  - a lambda with by-value captures (or a brace-initialized aggregate) built inside a
//    co_await expression is destroyed once too often when the coroutine suspends there.
//    Name it first: `auto work = [path] {...}; co_await ToThread(std::move(work));`.
// tools/check_coawait.sh enforces both in corio's own code.
//
// A Task runs inside the cancellation scope of whoever awaits it; Spawn gives it its own (a
// "root"): cancelling a root makes its current and future suspension points (Sleep, I/O,
// locks, queues, awaiting a child) complete with absl::CancelledError.
//
// Lambdas: a coroutine lambda's captures live in the lambda object, not in the coroutine
// frame, and dangle once the lambda is destroyed. Write `[](Args... args) -> Task<T> {...}`
// with everything passed as parameters (they are copied or moved into the frame), or use
// corio::MakeTask(callable, args...) which moves the callable into the frame.
//
// Threading: a Task runs on one loop's thread; it is not thread-safe. Its frame must not be
// resumed on another thread (corio never does: cross-loop results are posted to the waiter's
// own loop).
// Ownership: the Task object owns the coroutine frame until it is awaited or spawned;
// destroying a never-started Task destroys its frame (and its parameters) without running it.
// Errors: an exception escaping the body is captured and rethrown at the awaiter.
#ifndef CORIO_TASKS_TASK_H_
#define CORIO_TASKS_TASK_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/resume.h"
#include "tasks/frame_allocator.h"

namespace corio {

template <typename T = void>
class Task;

namespace tasks_internal {

// What a cancelled suspension point does: unregister itself and schedule its resumption with
// absl::CancelledError (never resume inline). Embedded in awaiters.
struct CancelHandler {
  void (*on_cancel)(CancelHandler* self);
};

struct PromiseBase;

// Typed operations on a type-erased root (one static table per result type; spawn.h).
struct RootOps {
  // The outcome as a Status: OK, the body's non-OK Status, CancelledError if it never ran,
  // UnknownError naming an escaped exception.
  absl::Status (*outcome)(PromiseBase* root);
  void (*destroy)(PromiseBase* root);
};

// Notified when a spawned child finishes (Gather, TaskGroup, WhenAny, ...). Returns the
// coroutine to resume next (symmetric transfer) or std::noop_coroutine().
class ChildObserver {
 public:
  virtual std::coroutine_handle<> OnChildDone(PromiseBase* child) noexcept = 0;

 protected:
  ~ChildObserver() = default;
};

// Per-root state: a spawned task's cancellation scope and bookkeeping. Embedded in every
// promise (used by roots only) so spawning allocates nothing but the frame; kept small because
// it is in every suspended task (loop:tasks_benchmark's bytes_per_idle).
struct RootState {
  static constexpr uint32_t kNotRegistered = ~0u;
  CancelHandler* armed = nullptr;  // the suspension point to abort on cancel
  // Where the root is listed with its RootOps: the loop's registry of live roots, or its
  // group's list of children (has_observer).
  uint32_t registry_index = kNotRegistered;
  bool cancelled : 1 = false;
  bool spawned : 1 = false;
  bool started : 1 = false;
  bool done : 1 = false;
  bool detached : 1 = false;
  bool has_handle : 1 = false;    // a JoinHandle still refers to the frame
  bool skipped : 1 = false;       // cancelled before its first step: the body never ran
  bool has_observer : 1 = false;  // reports to PromiseBase::observer, not a JoinHandle
};

struct alignas(8) PromiseBase {
  union {
    std::coroutine_handle<> continuation = nullptr;  // resumed when the body finishes
    ChildObserver* observer;                         // roots in a group (state.has_observer)
  };
  PromiseBase* root = this;  // nested tasks point at their root
  std::exception_ptr exception;
  RootState state;  // meaningful on roots only

  static void* operator new(std::size_t size) { return AllocateFrame(size); }
  static void operator delete(void* p, std::size_t size) { FreeFrame(p, size); }
};

// The root whose scope the coroutine `h` runs in, or nullptr for coroutines that are not
// corio tasks (they get no cancellation).
template <typename P>
PromiseBase* RootOf(std::coroutine_handle<P> h) {
  if constexpr (std::is_base_of_v<PromiseBase, P>) {
    return h.promise().root;
  } else {
    return nullptr;
  }
}

inline bool IsCancelled(PromiseBase* root) { return root != nullptr && root->state.cancelled; }

// Arms `handler` as `root`'s current suspension point. Call last in await_suspend.
inline void Arm(PromiseBase* root, CancelHandler* handler) {
  if (root != nullptr) root->state.armed = handler;
}
inline void Disarm(PromiseBase* root, CancelHandler* handler) {
  if (root != nullptr && root->state.armed == handler) root->state.armed = nullptr;
}

// Sync-primitive waiters (waiter.h), one in nearly every suspended task, are armed as tagged
// pointers (low bit set) instead of carrying a CancelHandler: 8 bytes less per idle task.
inline CancelHandler* TagWaiter(void* waiter) {
  return reinterpret_cast<CancelHandler*>(reinterpret_cast<uintptr_t>(waiter) | 1u);
}
inline bool IsTaggedWaiter(const CancelHandler* h) {
  return (reinterpret_cast<uintptr_t>(h) & 1u) != 0;
}
inline void* UntagWaiter(CancelHandler* h) {
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(h) & ~uintptr_t{1});
}

// `bool c = co_await CheckCancelled();`: whether the awaiting task's scope was cancelled.
// Never suspends.
struct CheckCancelled {
  bool cancelled = false;
  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    cancelled = IsCancelled(RootOf(h));
    return false;
  }
  bool await_resume() const noexcept { return cancelled; }
};

// Marks the root cancelled (sticky) and aborts its armed suspension point, if any. On the
// root's loop thread.
void RequestCancel(PromiseBase* root);

// Task needs no event loop: the two operations that do are installed by the code that makes
// them necessary, before it creates the first object that needs them (//tasks:spawn before it
// spawns a root; the sync-primitive waiter before it arms a tagged waiter).
using FinishSpawnedRootFn = std::coroutine_handle<> (*)(PromiseBase* root) noexcept;
using CancelWaiterFn = void (*)(void* waiter);
void InstallFinishSpawnedRoot(FinishSpawnedRootFn fn);
void InstallCancelWaiter(CancelWaiterFn fn);

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    PromiseBase& p = h.promise();
    if (p.root == &p && p.state.spawned) {
      return TransferTo(FinishRoot(&p));
    }
    return p.continuation ? TransferTo(p.continuation) : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
  // Root completion: unregister, then wake the joiner or observer (or report the error of a
  // detached task and free the frame). Defined in task.cc.
  static std::coroutine_handle<> FinishRoot(PromiseBase* root) noexcept;
};

template <typename T>
struct Promise;

template <typename T>
struct PromiseWithValue : PromiseBase {
  PromiseWithValue() {}
  ~PromiseWithValue() {
    if (has_value) value.~T();
  }
  template <typename U>
  void return_value(U&& v) {
    ::new (static_cast<void*>(std::addressof(value))) T(std::forward<U>(v));
    has_value = true;
  }
  T TakeValue() { return std::move(value); }

  union {
    T value;
  };
  bool has_value = false;
};

struct PromiseVoid : PromiseBase {
  void return_void() {}
};

template <typename T>
struct Promise : std::conditional_t<std::is_void_v<T>, PromiseVoid, PromiseWithValue<T>> {
  Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { this->exception = std::current_exception(); }
};

}  // namespace tasks_internal

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = tasks_internal::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const { return static_cast<bool>(h_); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      h.promise().continuation = caller;
      if (tasks_internal::PromiseBase* root = tasks_internal::RootOf(caller)) {
        h.promise().root = root;
      }
      return TransferTo(h);
    }
    T await_resume() {
      promise_type& p = h.promise();
      if (p.exception) std::rethrow_exception(p.exception);
      if constexpr (!std::is_void_v<T>) return p.TakeValue();
    }
  };

  // Starts the task in the awaiter's cancellation scope; resumes the awaiter with its result.
  // The frame is destroyed with the Task object (after the co_await expression).
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // For Spawn and friends: takes the frame out of the Task.
  Handle Release() noexcept { return std::exchange(h_, nullptr); }

 private:
  Handle h_ = nullptr;
};

namespace tasks_internal {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
}  // namespace tasks_internal

// The type a spawned Task<T> reports through its JoinHandle: Status and StatusOr as they are,
// void as Status, any other T as StatusOr<T> (so "cancelled before it ran" has a value).
template <typename T>
struct ResultOf {
  using type = absl::StatusOr<T>;
};
template <>
struct ResultOf<void> {
  using type = absl::Status;
};
template <>
struct ResultOf<absl::Status> {
  using type = absl::Status;
};
template <typename U>
struct ResultOf<absl::StatusOr<U>> {
  using type = absl::StatusOr<U>;
};
template <typename T>
using ResultOfT = typename ResultOf<T>::type;

// Wraps a coroutine callable so its captures live in the coroutine frame:
//   auto task = corio::MakeTask([x = std::move(x)]() -> Task<int> { co_return x.size(); });
template <typename F, typename... Args>
auto MakeTask(F f, Args... args) -> std::invoke_result_t<F&, Args&...> {
  co_return co_await f(args...);
}

}  // namespace corio

#endif  // CORIO_TASKS_TASK_H_
