#include "tasks/spawn.h"

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>
#include <vector>

#include "absl/strings/str_cat.h"

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

std::string Demangle(const char* name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string s(out);
  std::free(out);
  return s;
}

}  // namespace

void RequestCancel(PromiseBase* root) {
  if (root == nullptr) return;
  RootState& s = root->state;
  if (s.cancelled || s.done) return;
  s.cancelled = true;
  if (CancelHandler* h = s.armed) {
    s.armed = nullptr;
    h->on_cancel(h);
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
  s.ops = ops;
  s.observer = observer;
  s.has_handle = observer == nullptr;
  loop.Local<Registry>().Add(p);
  loop.CallSoon(FirstStep{p, h});
}

std::coroutine_handle<> FinalAwaiter::FinishRoot(PromiseBase* root) noexcept {
  RootState& s = root->state;
  s.done = true;
  s.armed = nullptr;
  if (EventLoop* loop = EventLoop::Current()) loop->Local<Registry>().Remove(root);
  if (s.observer != nullptr) return s.observer->OnChildDone(root);
  if (s.detached) {
    ReportDetachedFailure(s.ops->outcome(root));
    s.ops->destroy(root);
    return std::noop_coroutine();
  }
  if (root->continuation) return root->continuation;
  return std::noop_coroutine();
}

void Registry::Add(PromiseBase* p) {
  p->state.prev = nullptr;
  p->state.next = head_;
  if (head_ != nullptr) head_->state.prev = p;
  head_ = p;
  ++size_;
}

void Registry::Remove(PromiseBase* p) {
  RootState& s = p->state;
  if (s.prev == nullptr && head_ != p) return;  // not registered
  if (s.prev != nullptr) {
    s.prev->state.next = s.next;
  } else {
    head_ = s.next;
  }
  if (s.next != nullptr) s.next->state.prev = s.prev;
  s.prev = s.next = nullptr;
  --size_;
}

void Registry::CancelAll() {
  std::vector<PromiseBase*> all;
  all.reserve(size_);
  for (PromiseBase* p = head_; p != nullptr; p = p->state.next) all.push_back(p);
  for (PromiseBase* p : all) RequestCancel(p);
}

Registry::~Registry() {
  while (head_ != nullptr) {
    PromiseBase* p = head_;
    Remove(p);
    if (p->state.detached) p->state.ops->destroy(p);
  }
}

}  // namespace tasks_internal
}  // namespace corio
