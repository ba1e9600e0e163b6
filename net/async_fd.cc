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
  AsyncFd a;
  a.state_ = std::make_unique<State>();
  a.state_->fd = fd;
  State* s = a.state_.get();
  absl::StatusOr<FdWatcher> w = FdWatcher::Start(
      *loop, fd, io::kReadable | io::kWritable | io::kEdgeTriggered, [s](uint32_t ready) {
        const bool trouble = (ready & (io::kError | io::kHangup)) != 0;
        for (int dir = 0; dir < 2; ++dir) {
          const uint32_t bit = dir == 0 ? io::kReadable : io::kWritable;
          if ((ready & bit) || trouble) {
            s->ready[dir] = true;
            if (Awaiter* a = s->waiter[dir]) a->Wake(absl::OkStatus());
          }
        }
      });
  if (!w.ok()) {
    close(fd);
    return w.status();
  }
  s->watcher = *std::move(w);
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
    if (a != nullptr) a->Wake(absl::CancelledError("fd closed while waiting"));
  }
  state_->watcher.Stop();
  close(state_->fd);
  state_.reset();
}

bool AsyncFd::Awaiter::await_ready() const noexcept { return fd_.state_->ready[dir_]; }

AsyncFd::Awaiter::~Awaiter() {
  if (fd_.state_ && fd_.state_->waiter[dir_] == this) fd_.state_->waiter[dir_] = nullptr;
  tasks_internal::Disarm(root_, this);
}

void AsyncFd::Awaiter::Wake(absl::Status result) {
  fd_.state_->waiter[dir_] = nullptr;
  tasks_internal::Disarm(root_, this);
  result_ = std::move(result);
  // No loop running (the fd is being closed after its loop stopped): the waiting frame can
  // never resume; whoever destroys it cleans up.
  if (EventLoop* loop = EventLoop::Current()) loop->CallSoon(handle_);
}

void AsyncFd::Awaiter::OnCancel(tasks_internal::CancelHandler* self) {
  auto* a = static_cast<Awaiter*>(self);
  if (a->fd_.state_ && a->fd_.state_->waiter[a->dir_] == a) {
    a->Wake(absl::CancelledError("I/O wait cancelled"));
  }
}

}  // namespace corio
