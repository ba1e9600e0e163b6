#include "tasks/child_group.h"

#include <algorithm>

namespace corio::tasks_internal {

std::coroutine_handle<> ChildGroup::OnChildDone(PromiseBase* child) noexcept {
  completed_.push_back(child);
  --running_;
  if (waiter_) return std::exchange(waiter_, nullptr);
  return std::noop_coroutine();
}

void ChildGroup::CancelAll() {
  for (PromiseBase* c : children_) {
    if (!c->state.done) RequestCancel(c);
  }
}

void ChildGroup::Release(PromiseBase* child) {
  auto it = std::find(children_.begin(), children_.end(), child);
  CORIO_CHECK(it != children_.end() && child->state.done);
  *it = children_.back();
  children_.pop_back();
  child->state.ops->destroy(child);
}

ChildGroup::~ChildGroup() {
  for (PromiseBase* c : children_) {
    if (c->state.done) {
      c->state.ops->destroy(c);
    } else {
      c->state.observer = nullptr;
      c->state.detached = true;
      RequestCancel(c);
    }
  }
}

}  // namespace corio::tasks_internal
