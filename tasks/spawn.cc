#include "tasks/spawn.h"

#include <cstdlib>
#include <typeinfo>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/demangle.h"

namespace corio {
namespace tasks_internal {
namespace {

// A spawned task's first step, on a later loop turn.
struct FirstStep {
  PromiseBase* p;
  std::coroutine_handle<> h;
  void operator()() const {
    if (p->state.cancelled) {
      // Cancelled before it ran: the body never starts (asyncio semantics).
      p->state.skipped = true;
      ResumeCoroutine(FinalAwaiter::FinishRoot(p));
      return;
    }
    p->state.started = true;
    ResumeCoroutine(h);
  }
};

// Completion of a spawned root that reports to a JoinHandle (or to nobody, once detached).
std::coroutine_handle<> FinishSpawnedRoot(PromiseBase* root) noexcept {
  RootState& s = root->state;
  EventLoop* loop = EventLoop::Current();
  Registry* registry = loop != nullptr ? loop->FindLocal<Registry>() : nullptr;
  const RootOps* ops = registry != nullptr ? registry->Remove(root) : nullptr;
  if (s.detached && ops != nullptr) {
    ReportDetachedFailure(ops->outcome(root));
    ops->destroy(root);
    return std::noop_coroutine();
  }
  if (root->continuation) return root->continuation;
  return std::noop_coroutine();
}

}  // namespace

absl::Status ExceptionToStatus(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return absl::UnknownError(
        absl::StrCat("task threw ", Demangle(typeid(ex).name()), ": ", ex.what()));
  } catch (...) {
    return absl::UnknownError("task threw an exception of unknown type");
  }
}

void ReportDetachedFailure(const absl::Status& outcome) {
  if (outcome.ok() || absl::IsCancelled(outcome)) return;
  if (EventLoop* loop = EventLoop::Current()) {
    loop->ReportError(outcome);
  }
}

void StartRoot(EventLoop& loop, PromiseBase* p, std::coroutine_handle<> h, const RootOps* ops,
               ChildObserver* observer) {
  p->root = p;
  RootState& s = p->state;
  s.spawned = true;
  if (observer != nullptr) {
    p->observer = observer;
    s.has_observer = true;
    loop.CallSoon(FirstStep{p, h});
  } else {
    s.has_handle = true;
    loop.CallSoon(FirstStep{p, h});
    RegistryOf(loop).AddRoot(p, ops);  // last: it may cancel the root, which must be scheduled
  }
}

void Registry::Attach(EventLoop& loop) {
  // Roots that report to no observer finish through the registry, which exists (and was
  // attached) before the first of them is added.
  InstallFinishSpawnedRoot(&FinishSpawnedRoot);
  loop_ = &loop;
  loop.SetTaskHost(this);
}

void Registry::AddRoot(PromiseBase* p, const RootOps* ops) {
  Add(p, ops);
  if (cancel_new_) RequestCancel(p);
}

void Registry::CancelAll() {
  const std::vector<RootEntry> all(begin(), end());  // cancel handlers never finish roots inline
  for (const RootEntry& e : all) RequestCancel(e.root);
}

Registry::~Registry() {
  if (loop_ != nullptr && loop_->task_host() == this) loop_->SetTaskHost(nullptr);
  while (!empty()) {
    const RootEntry e = back();
    Remove(e.root);
    if (e.root->state.detached) e.ops->destroy(e.root);
  }
}

}  // namespace tasks_internal
}  // namespace corio
