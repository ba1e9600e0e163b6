#include "tasks/spawn.h"


#include <cstdlib>
#include <typeinfo>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/demangle.h"
#include "tasks/waiter.h"

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


}  // namespace

void RequestCancel(PromiseBase* root) {
  if (root == nullptr) return;
  RootState& s = root->state;
  if (s.cancelled || s.done) return;
  s.cancelled = true;
  if (CancelHandler* h = s.armed) {
    s.armed = nullptr;
    if (IsTaggedWaiter(h)) {
      static_cast<Waiter*>(UntagWaiter(h))->OnCancel();
    } else {
      h->on_cancel(h);
    }
  }
}

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
  } else {
    s.has_handle = true;
    loop.Local<Registry>().Add(p, ops);
  }
  loop.CallSoon(FirstStep{p, h});
}

std::coroutine_handle<> FinalAwaiter::FinishRoot(PromiseBase* root) noexcept {
  RootState& s = root->state;
  s.done = true;
  s.armed = nullptr;
  if (s.has_observer) return root->observer->OnChildDone(root);
  EventLoop* loop = EventLoop::Current();
  const RootOps* ops = loop != nullptr ? loop->Local<Registry>().Remove(root) : nullptr;
  if (s.detached && ops != nullptr) {
    ReportDetachedFailure(ops->outcome(root));
    ops->destroy(root);
    return std::noop_coroutine();
  }
  if (root->continuation) return root->continuation;
  return std::noop_coroutine();
}

void Registry::CancelAll() {
  const std::vector<RootEntry> all(begin(), end());  // cancel handlers never finish roots inline
  for (const RootEntry& e : all) RequestCancel(e.root);
}

Registry::~Registry() {
  while (!empty()) {
    const RootEntry e = back();
    Remove(e.root);
    if (e.root->state.detached) e.ops->destroy(e.root);
  }
}

}  // namespace tasks_internal
}  // namespace corio
