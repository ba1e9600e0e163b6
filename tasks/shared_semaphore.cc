#include "tasks/shared_semaphore.h"

#include "base/check.h"

namespace corio {

using tasks_internal::SharedWaiter;

SharedSemaphore::~SharedSemaphore() {
  std::lock_guard<std::mutex> lock(mu_);
  CORIO_CHECK_MSG(waiters_.empty(), "SharedSemaphore destroyed while tasks wait on it");
}

bool SharedSemaphore::TryAcquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (permits_ <= 0 || !waiters_.empty()) return false;
  --permits_;
  return true;
}

void SharedSemaphore::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked();
}

void SharedSemaphore::ReleaseLocked() {
  while (SharedWaiter* w = waiters_.front()) {
    waiters_.Remove(w);
    if (w->Grant(SharedWaiter::State::kGranted)) return;  // the permit passes to w
    // w's loop is gone and w will never resume: the permit goes to the next one.
  }
  ++permits_;
}

int64_t SharedSemaphore::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return permits_;
}

size_t SharedSemaphore::waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

bool SharedSemaphore::Enqueue(SharedWaiter* w) {
  std::lock_guard<std::mutex> lock(mu_);
  if (permits_ > 0 && waiters_.empty()) {
    --permits_;
    return false;
  }
  w->state = SharedWaiter::State::kQueued;
  waiters_.PushBack(w);
  return true;
}

SharedSemaphore::Awaiter::~Awaiter() {
  if (enqueued_) {
    std::lock_guard<std::mutex> lock(sem_.mu_);
    if (state == State::kQueued) {
      sem_.waiters_.Remove(this);  // the frame went away while queued
    } else if (state == State::kGranted && !taken_) {
      sem_.ReleaseLocked();  // handed a permit, destroyed before resuming: give it back
    }
  }
  tasks_internal::Disarm(root, this);
}

absl::Status SharedSemaphore::Awaiter::await_resume() {
  tasks_internal::Disarm(root, this);
  if (got_ || state == State::kGranted) {
    taken_ = true;
    return absl::OkStatus();
  }
  return absl::CancelledError("SharedSemaphore acquire cancelled");
}

void SharedSemaphore::Awaiter::OnCancel(tasks_internal::CancelHandler* self) {
  auto* a = static_cast<Awaiter*>(self);
  {
    std::lock_guard<std::mutex> lock(a->sem_.mu_);
    if (a->state != State::kQueued) return;  // granted meanwhile: its resumption is on its way
    a->sem_.waiters_.Remove(a);
    a->state = State::kCancelled;
  }
  // On the task's own loop thread (cancellation is delivered there); never resumed inline.
  (void)a->loop.Post(a->handle);
}

}  // namespace corio
