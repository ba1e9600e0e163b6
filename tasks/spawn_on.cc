#include "tasks/spawn_on.h"

namespace corio::tasks_internal {

void RemoteStateBase::Cancel() {
  if (cancel_requested_.exchange(true, std::memory_order_acq_rel)) return;
  // Delivered on the target loop, where the root lives. A task that has not started yet sees
  // cancel_requested() when it does; a loop that is gone has nothing left to cancel.
  std::shared_ptr<RemoteStateBase> self = shared_from_this();
  (void)target_.Post([self] {
    if (self->root_ != nullptr) RequestCancel(self->root_);
  });
}

bool RemoteStateBase::Await(std::coroutine_handle<> h) {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr,
                  "co_await on a RemoteHandle needs a running event loop on this thread");
  std::lock_guard<std::mutex> lock(mu_);
  if (done_) return false;
  waiter_ = h;
  waiter_loop_ = loop->handle();
  return true;
}

void RemoteStateBase::Unawait() {
  std::lock_guard<std::mutex> lock(mu_);
  waiter_ = nullptr;
  waiter_loop_ = LoopHandle();
}

void RemoteStateBase::BlockUntilDone() {
  CORIO_CHECK_MSG(EventLoop::Current() == nullptr,
                  "RemoteHandle::Wait on a loop thread: co_await the handle instead");
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return done_; });
}

void RemoteStateBase::Detach() {
  absl::Status dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    detached_ = true;
    if (done_ && !taken_) dropped = FailureLocked();
  }
  if (dropped.ok() || absl::IsCancelled(dropped)) return;
  (void)target_.Post([dropped] {
    if (EventLoop* loop = EventLoop::Current()) loop->ReportError(dropped);
  });
}

void RemoteStateBase::Started(PromiseBase* root) { root_ = root; }

void RemoteStateBase::Finish(std::unique_lock<std::mutex> lock, bool task_outcome) {
  done_ = true;
  const bool has_waiter = waiter_ != nullptr;
  LoopHandle waiter_loop = std::move(waiter_loop_);
  // Copied only when nobody else will read the result (absl::Status shares its payload).
  absl::Status failure;
  if (detached_ && task_outcome) failure = FailureLocked();
  const bool report = !failure.ok() && !absl::IsCancelled(failure);
  lock.unlock();
  cv_.notify_all();
  if (has_waiter) {
    // Resumed on its own loop. Checked again there: the awaiting frame may have gone away.
    std::shared_ptr<RemoteStateBase> self = shared_from_this();
    (void)waiter_loop.Post([self] {
      std::coroutine_handle<> h;
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        h = std::exchange(self->waiter_, nullptr);
      }
      if (h) ResumeCoroutine(h);
    });
  }
  if (report) {
    if (EventLoop* loop = EventLoop::Current()) loop->ReportError(failure);
  }
}

void StartRemote::operator()() {
  EventLoop* loop = EventLoop::Current();
  auto h = runner.Release();
  PromiseBase* root = &h.promise();
  StartRoot(*loop, root, h, &OpsFor<void>::kOps, nullptr);
  root->state.has_handle = false;  // the runner frees itself; the state carries the result
  root->state.detached = true;
  state->Started(root);
  if (state->cancel_requested()) RequestCancel(root);
}

}  // namespace corio::tasks_internal
