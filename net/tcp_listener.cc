#include "net/tcp_listener.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tasks/sleep.h"

namespace corio {

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
  TcpListener l;
  absl::StatusOr<SocketAddress> bound = SocketAddress::LocalOf(fd);
  l.local_ = bound.ok() ? *bound : addr;
  absl::StatusOr<AsyncFd> afd = AsyncFd::Create(fd);
  if (!afd.ok()) return afd.status();
  l.fd_ = *std::move(afd);
  return l;
}

Task<absl::StatusOr<TcpStream>> TcpListener::Accept() {
  if (!fd_.valid()) co_return absl::FailedPreconditionError("accept on a closed TcpListener");
  for (;;) {
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    const int fd = accept4(fd_.fd(), reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      absl::StatusOr<SocketAddress> addr =
          SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer), len);
      if (fd_.UseBudget()) {
        absl::Status y = co_await Yield();
        if (!y.ok()) {
          close(fd);
          co_return y;
        }
      }
      co_return TcpStream::Adopt(fd, addr.ok() ? *addr : SocketAddress());
    }
    const int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err == EMFILE || err == ENFILE) {
      co_return absl::ResourceExhaustedError(
          absl::StrCat("accept on ", local_.ToString(), ": too many open files"));
    }
    if (err != EAGAIN) {
      co_return absl::ErrnoToStatus(err, absl::StrCat("accept on ", local_.ToString()));
    }
    fd_.ClearReadable();
    absl::Status ready = co_await fd_.Readable();
    if (!ready.ok()) co_return ready;
  }
}

}  // namespace corio
