#include "tasks/task.h"

#include <atomic>

namespace corio::tasks_internal {
namespace {

// Installed before any object that needs them exists (see task.h), and never changed to
// anything else; relaxed is enough because the installing thread is the one that then creates
// the root or waiter, and other threads only ever see the same value.
std::atomic<FinishSpawnedRootFn> g_finish_spawned_root{nullptr};
std::atomic<CancelWaiterFn> g_cancel_waiter{nullptr};

}  // namespace

void InstallFinishSpawnedRoot(FinishSpawnedRootFn fn) {
  if (g_finish_spawned_root.load(std::memory_order_relaxed) != fn) {
    g_finish_spawned_root.store(fn, std::memory_order_relaxed);
  }
}

void InstallCancelWaiter(CancelWaiterFn fn) {
  if (g_cancel_waiter.load(std::memory_order_relaxed) != fn) {
    g_cancel_waiter.store(fn, std::memory_order_relaxed);
  }
}

void RequestCancel(PromiseBase* root) {
  if (root == nullptr) return;
  RootState& s = root->state;
  if (s.cancelled || s.done) return;
  s.cancelled = true;
  if (CancelHandler* h = s.armed) {
    s.armed = nullptr;
    if (IsTaggedWaiter(h)) {
      g_cancel_waiter.load(std::memory_order_relaxed)(UntagWaiter(h));
    } else {
      h->on_cancel(h);
    }
  }
}

std::coroutine_handle<> FinalAwaiter::FinishRoot(PromiseBase* root) noexcept {
  RootState& s = root->state;
  s.done = true;
  s.armed = nullptr;
  if (s.has_observer) return root->observer->OnChildDone(root);
  return g_finish_spawned_root.load(std::memory_order_relaxed)(root);
}

}  // namespace corio::tasks_internal
