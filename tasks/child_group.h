// ChildGroup: spawned children a parent task waits on together; the machinery under Gather,
// WhenAny, AsCompleted, WithTimeout, TaskGroup and Shield. Internal to //tasks.
//
// Children are roots (own cancellation scopes) whose completion is reported to the group
// instead of a JoinHandle. The parent waits with WaitForCompletion(): it resumes when a child
// finished that it has not looked at yet, or when none is running. Cancelling the waiting
// parent cancels every running child (unless the group shields them), and the parent keeps
// waiting for them: no child outlives the wait that owns it.
//
// Ownership: the group owns its children's frames. Destroying it destroys finished ones and
// cancels and detaches running ones: they move to their loop's registry (so Run and LoopGroup
// still drain them, and a loop destroyed meanwhile frees them) and free themselves when they
// finish.
#ifndef CORIO_TASKS_CHILD_GROUP_H_
#define CORIO_TASKS_CHILD_GROUP_H_

#include <coroutine>
#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "loop/event_loop.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio::tasks_internal {

class ChildGroup final : public ChildObserver {
 public:
  explicit ChildGroup(bool propagate_cancel = true) : propagate_cancel_(propagate_cancel) {}
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;
  ~ChildGroup();

  // Spawns `task` on the current loop as a child of this group.
  template <typename T>
  std::coroutine_handle<Promise<T>> Add(Task<T> task) {
    auto h = task.Release();
    CORIO_CHECK_MSG(h, "corio: an empty Task was given to a group");
    EventLoop* loop = EventLoop::Current();
    CORIO_CHECK_MSG(loop != nullptr, "corio: task groups need a running event loop");
    CORIO_CHECK_MSG(loop_ == nullptr || loop_ == loop, "corio: a task group spans one loop");
    loop_ = loop;
    StartRoot(*loop, &h.promise(), h, &OpsFor<T>::kOps, this);
    children_.Add(&h.promise(), &OpsFor<T>::kOps);
    ++running_;
    return h;
  }
  // Adds every task, in order (leaving `tasks` empty); the handles are in the same order.
  template <typename T>
  std::vector<std::coroutine_handle<Promise<T>>> AddAll(std::vector<Task<T>>& tasks) {
    std::vector<std::coroutine_handle<Promise<T>>> handles;
    handles.reserve(tasks.size());
    for (Task<T>& t : tasks) handles.push_back(Add(std::move(t)));
    tasks.clear();
    return handles;
  }

  // Instead of queuing finished children for NextCompleted, hand each to `fn` the moment it
  // finishes (TaskGroup: a server's long-lived group must not keep every finished
  // connection's frame, and its sockets, until Wait()). `fn` may Release the child.
  using CollectFn = void (*)(void* ctx, PromiseBase* child);
  void CollectEagerly(CollectFn fn, void* ctx) {
    collect_ = fn;
    collect_ctx_ = ctx;
  }

  size_t running() const { return running_; }
  size_t size() const { return children_.size(); }
  // The next finished child not yet taken, in completion order, or nullptr.
  PromiseBase* NextCompleted() {
    return next_unseen_ < completed_.size() ? completed_[next_unseen_++] : nullptr;
  }
  void CancelAll();
  // A finished child's outcome (see RootOps::outcome).
  absl::Status Outcome(PromiseBase* child) const { return children_.OpsOf(child)->outcome(child); }
  // The child's position in the order it was added. O(1). Only while no child was released
  // (releasing reorders the list).
  size_t IndexOf(const PromiseBase* child) const {
    CORIO_CHECK_MSG(!released_any_, "ChildGroup::IndexOf after Release");
    return child->state.registry_index;
  }
  // Destroys a finished child's frame now (TaskGroup keeps no results). O(1).
  void Release(PromiseBase* child);

  class [[nodiscard]] WaitAwaiter : CancelHandler {
   public:
    explicit WaitAwaiter(ChildGroup& g) : CancelHandler{&OnCancel}, g_(g) {}
    bool await_ready() const noexcept {
      return g_.next_unseen_ < g_.completed_.size() || g_.running_ == 0;
    }
    template <typename P>
    void await_suspend(std::coroutine_handle<P> h) {
      root_ = RootOf(h);
      g_.waiter_ = h;
      if (IsCancelled(root_)) {
        if (g_.propagate_cancel_) g_.CancelAll();  // a cancel that came earlier still counts
      } else {
        Arm(root_, this);
      }
    }
    void await_resume() noexcept { Disarm(root_, this); }

   private:
    static void OnCancel(CancelHandler* self) {
      auto* w = static_cast<WaitAwaiter*>(self);
      if (w->g_.propagate_cancel_) w->g_.CancelAll();  // and keep waiting for them
    }
    ChildGroup& g_;
    PromiseBase* root_ = nullptr;
  };

  // Resumes when a finished child is ready to be taken or nothing is running (so a loop around
  // it must take finished children with NextCompleted, or it spins). Never fails: the
  // parent's cancellation is passed on to the children, whose results tell.
  WaitAwaiter WaitForCompletion() { return WaitAwaiter(*this); }

  std::coroutine_handle<> OnChildDone(PromiseBase* child) noexcept override;

 private:
  const bool propagate_cancel_;
  EventLoop* loop_ = nullptr;  // where the children run (set by the first Add)
  RootList children_;
  bool released_any_ = false;
  std::vector<PromiseBase*> completed_;
  size_t next_unseen_ = 0;
  size_t running_ = 0;
  std::coroutine_handle<> waiter_;
  CollectFn collect_ = nullptr;
  void* collect_ctx_ = nullptr;
};

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_CHILD_GROUP_H_
