#include "net/async_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/check.h"

namespace corio {

absl::StatusOr<AsyncFd> AsyncFd::Create(int fd) {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr, "AsyncFd needs a running event loop on this thread");
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, "fcntl(O_NONBLOCK)");
  }
  auto state = std::make_unique<State>();
  State* s = state.get();
  absl::StatusOr<FdWatcher> w = FdWatcher::Start(
      *loop, fd, io::kReadable | io::kWritable | io::kEdgeTriggered | io::kPriority,
      [s](uint32_t ready) {
        const bool trouble = (ready & (io::kError | io::kHangup)) != 0;
        if (trouble || (ready & io::kPriority)) s->short_read_keeps_readable = true;
        for (int dir = 0; dir < 2; ++dir) {
          const uint32_t bit = dir == 0 ? io::kReadable : io::kWritable;
          if ((ready & bit) || trouble) {
            s->ready[dir] = true;
            Awaiter* a = s->waiter[dir];
            if (a != nullptr && !a->woken_) a->Wake(absl::OkStatus());
          }
        }
      });
  if (!w.ok()) {
    close(fd);  // the only close: `state` does not own the fd yet
    return w.status();
  }
  s->fd = fd;
  s->watcher = *std::move(w);
  AsyncFd a;
  a.state_ = std::move(state);
  return a;
}

AsyncFd& AsyncFd::operator=(AsyncFd&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::move(other.state_);
  }
  return *this;
}

void AsyncFd::Close() {
  if (!state_) return;
  for (Awaiter* a : state_->waiter) {
    if (a != nullptr) a->Detach();
  }
  state_->watcher.Stop();
  if (state_->fd >= 0) close(state_->fd);
  state_.reset();
}

bool AsyncFd::Awaiter::Suspend(std::coroutine_handle<> h) {
  if (state_ == nullptr) {
    result_ = absl::FailedPreconditionError("I/O wait on a closed fd");
    return false;
  }
  if (tasks_internal::IsCancelled(root_)) {
    result_ = absl::CancelledError("I/O wait cancelled");
    return false;
  }
  if (!yield_ && state_->ready[dir_]) {
    result_ = absl::OkStatus();
    return false;
  }
  if (state_->waiter[dir_] != nullptr) {
    result_ = absl::FailedPreconditionError(dir_ == 0 ? "another task is already reading"
                                                      : "another task is already writing");
    state_ = nullptr;  // not ours to unregister
    return false;
  }
  loop_ = EventLoop::Current();
  CORIO_CHECK_MSG(loop_ != nullptr, "AsyncFd: no event loop is running on this thread");
  handle_ = h;
  state_->waiter[dir_] = this;
  state_->inline_ops = 0;
  state_->inline_bytes = 0;
  if (yield_) {
    Wake(absl::OkStatus());  // the next turn; registered so that Close() can still veto it
    return true;
  }
  if (deadline_ != absl::InfiniteFuture()) {
    timer_ = loop_->CallAt(deadline_, [this] {
      if (!woken_) Wake(absl::DeadlineExceededError("I/O wait deadline exceeded"));
    });
  }
  tasks_internal::Arm(root_, this);
  return true;
}

absl::Status AsyncFd::Awaiter::await_resume() {
  Leave();
  if (yield_ && result_.ok() && tasks_internal::IsCancelled(root_)) {
    return absl::CancelledError("I/O wait cancelled");
  }
  return std::move(result_);
}

void AsyncFd::Awaiter::Leave() {
  tasks_internal::Disarm(root_, this);
  timer_.Cancel();
  if (state_ != nullptr && state_->waiter[dir_] == this) state_->waiter[dir_] = nullptr;
}

void AsyncFd::Awaiter::Wake(absl::Status result) {
  woken_ = true;
  tasks_internal::Disarm(root_, this);
  timer_.Cancel();
  result_ = std::move(result);
  // Onto the loop the task waits on, running or not (the fd may be closed while its loop is
  // stopped or being destroyed: the resumption then runs, or is dropped with the loop).
  loop_->CallSoon(handle_);
}

void AsyncFd::Awaiter::Detach() {
  if (!woken_) {
    Wake(absl::CancelledError("fd closed while waiting"));
  } else {
    result_ = absl::CancelledError("fd closed while waiting");
  }
  state_ = nullptr;
}

void AsyncFd::Awaiter::OnCancel(tasks_internal::CancelHandler* self) {
  auto* a = static_cast<Awaiter*>(self);
  if (a->state_ != nullptr && !a->woken_) a->Wake(absl::CancelledError("I/O wait cancelled"));
}

}  // namespace corio
