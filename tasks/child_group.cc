#include "tasks/child_group.h"

namespace corio::tasks_internal {

std::coroutine_handle<> ChildGroup::OnChildDone(PromiseBase* child) noexcept {
  --running_;
  if (collect_ != nullptr) {
    collect_(collect_ctx_, child);  // may destroy the child's frame: it is at its final point
  } else {
    completed_.push_back(child);
  }
  if (waiter_) return std::exchange(waiter_, nullptr);
  return std::noop_coroutine();
}

void ChildGroup::CancelAll() {
  for (const RootEntry& e : children_) {
    if (!e.root->state.done) RequestCancel(e.root);
  }
}

void ChildGroup::Release(PromiseBase* child) {
  CORIO_CHECK(child->state.done);
  released_any_ = true;
  children_.Remove(child)->destroy(child);
}

ChildGroup::~ChildGroup() {
  for (const RootEntry& e : children_) {
    PromiseBase* c = e.root;
    if (c->state.done) {
      e.ops->destroy(c);
      continue;
    }
    // Still running: hand it to the loop's registry, detached, so it frees itself and Run()
    // still waits for it.
    c->state.has_observer = false;
    c->continuation = nullptr;
    c->state.detached = true;
    RegistryOf(*loop_).Add(c, e.ops);
    RequestCancel(c);
  }
}

}  // namespace corio::tasks_internal
