#include "net/tcp_stream.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tasks/sleep.h"
#include "tasks/with_timeout.h"

namespace corio {
namespace {

absl::Status SockError(int err, absl::string_view op, const SocketAddress& peer) {
  return absl::ErrnoToStatus(err, absl::StrCat(op, " ", peer.ToString()));
}

// A connected (or connecting) TCP socket: Nagle off, owned and watched by an AsyncFd.
absl::StatusOr<AsyncFd> WatchStreamSocket(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return AsyncFd::Create(fd);
}

// The connect itself, in its own task so WithTimeout can bound it.
Task<absl::StatusOr<AsyncFd>> ConnectFd(SocketAddress peer) {
  const int fd = socket(peer.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) co_return SockError(errno, "socket for", peer);
  absl::StatusOr<AsyncFd> afd = WatchStreamSocket(fd);  // owns fd from here on, on every path
  if (!afd.ok()) co_return afd.status();
  if (connect(fd, peer.sockaddr_ptr(), peer.socklen()) == 0) co_return afd;
  if (errno != EINPROGRESS) co_return SockError(errno, "connect", peer);
  absl::Status ready = co_await afd->Writable();
  if (!ready.ok()) co_return ready;  // cancelled: the AsyncFd closes the socket
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) co_return SockError(err, "connect", peer);
  co_return afd;
}

}  // namespace

Task<absl::StatusOr<TcpStream>> TcpStream::Connect(SocketAddress peer, absl::Duration timeout) {
  absl::StatusOr<AsyncFd> fd;
  if (timeout == absl::InfiniteDuration()) {
    fd = co_await ConnectFd(peer);
  } else {
    fd = co_await WithTimeout(timeout, ConnectFd(peer));
    if (absl::IsDeadlineExceeded(fd.status())) {
      co_return absl::DeadlineExceededError(absl::StrCat(
          "connect ", peer.ToString(), ": timed out after ", absl::FormatDuration(timeout)));
    }
  }
  if (!fd.ok()) co_return fd.status();
  co_return TcpStream(*std::move(fd), peer);
}

absl::StatusOr<TcpStream> TcpStream::Adopt(int fd, SocketAddress peer) {
  absl::StatusOr<AsyncFd> afd = WatchStreamSocket(fd);
  if (!afd.ok()) return afd.status();
  return TcpStream(*std::move(afd), peer);
}

Task<absl::StatusOr<size_t>> TcpStream::Read(absl::Span<char> buf) {
  if (!fd_.valid()) co_return absl::FailedPreconditionError("read from a closed TcpStream");
  for (;;) {
    const ssize_t n = ::read(fd_.fd(), buf.data(), buf.size());
    if (n >= 0) {
      if (fd_.UseBudget(static_cast<size_t>(n))) {
        absl::Status y = co_await Yield();
        if (!y.ok()) co_return y;
      }
      co_return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return SockError(errno, "read from", peer_);
    fd_.ClearReadable();
    absl::Status ready = co_await fd_.Readable();
    if (!ready.ok()) co_return ready;
  }
}

Task<absl::Status> TcpStream::WriteAll(absl::string_view data) {
  if (!fd_.valid()) co_return absl::FailedPreconditionError("write to a closed TcpStream");
  const size_t total = data.size();
  while (!data.empty()) {
    const ssize_t n = ::send(fd_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return SockError(errno, "write to", peer_);
    fd_.ClearWritable();
    absl::Status ready = co_await fd_.Writable();
    if (!ready.ok()) co_return ready;
  }
  if (fd_.UseBudget(total)) {
    co_return co_await Yield();
  }
  co_return absl::OkStatus();
}

Task<absl::Status> TcpStream::Shutdown() {
  if (!fd_.valid()) co_return absl::FailedPreconditionError("shutdown of a closed TcpStream");
  if (::shutdown(fd_.fd(), SHUT_WR) != 0) co_return SockError(errno, "shutdown", peer_);
  co_return absl::OkStatus();
}

absl::Status TcpStream::SetNoDelay(bool on) {
  const int v = on ? 1 : 0;
  if (setsockopt(fd_.fd(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) {
    return SockError(errno, "setsockopt(TCP_NODELAY)", peer_);
  }
  return absl::OkStatus();
}

absl::Status TcpStream::SetKeepAlive(bool on) {
  const int v = on ? 1 : 0;
  if (setsockopt(fd_.fd(), SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) != 0) {
    return SockError(errno, "setsockopt(SO_KEEPALIVE)", peer_);
  }
  return absl::OkStatus();
}

}  // namespace corio
