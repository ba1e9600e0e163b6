#include "net/tcp_listener.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace corio {

struct TcpListener::State {
  AsyncFd fd;
  SocketAddress local;
  bool yield_due = false;
};

TcpListener::TcpListener() = default;
TcpListener::TcpListener(TcpListener&&) noexcept = default;
TcpListener& TcpListener::operator=(TcpListener&&) noexcept = default;
TcpListener::~TcpListener() = default;

absl::StatusOr<TcpListener> TcpListener::Bind(SocketAddress addr, int backlog) {
  const int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("socket for ", addr.ToString()));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, addr.sockaddr_ptr(), addr.socklen()) != 0 || listen(fd, backlog) != 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("listen on ", addr.ToString()));
  }
  auto state = std::make_unique<State>();
  absl::StatusOr<SocketAddress> bound = SocketAddress::LocalOf(fd);
  state->local = bound.ok() ? *bound : addr;
  absl::StatusOr<AsyncFd> afd = AsyncFd::Create(fd);
  if (!afd.ok()) return afd.status();
  state->fd = *std::move(afd);
  TcpListener l;
  l.state_ = std::move(state);
  return l;
}

namespace {

// A coroutine over the stable State, not the TcpListener (which may move while it waits). The
// State is alive whenever a wait returned anything but CANCELLED.
Task<absl::StatusOr<TcpStream>> AcceptOn(TcpListener::State* s) {
  if (s == nullptr || !s->fd.valid()) {
    co_return absl::FailedPreconditionError("accept on a closed TcpListener");
  }
  // The fairness yield comes before a connection is taken, so a cancellation it reports
  // drops no connection.
  if (s->yield_due) {
    s->yield_due = false;
    absl::Status y = co_await s->fd.Yield(0);
    if (!y.ok()) co_return y;
  }
  for (;;) {
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    const int fd =
        accept4(s->fd.fd(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      absl::StatusOr<SocketAddress> addr =
          SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer), len);
      s->yield_due = s->fd.UseBudget();
      co_return TcpStream::Adopt(fd, addr.ok() ? *addr : SocketAddress());
    }
    const int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err == EMFILE || err == ENFILE) {
      co_return absl::ResourceExhaustedError(
          absl::StrCat("accept on ", s->local.ToString(), ": too many open files"));
    }
    if (err != EAGAIN) {
      co_return absl::ErrnoToStatus(err, absl::StrCat("accept on ", s->local.ToString()));
    }
    s->fd.ClearReadable();
    absl::Status ready = co_await s->fd.Readable();
    if (!ready.ok()) co_return ready;
  }
}

}  // namespace

Task<absl::StatusOr<TcpStream>> TcpListener::Accept() { return AcceptOn(state_.get()); }

const SocketAddress& TcpListener::local_address() const {
  static const SocketAddress* const kNone = new SocketAddress();
  return state_ ? state_->local : *kNone;
}

void TcpListener::Close() {
  if (state_) state_->fd.Close();
}

}  // namespace corio
