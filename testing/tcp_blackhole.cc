#include "testing/tcp_blackhole.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace corio::testing {

absl::StatusOr<std::unique_ptr<TcpBlackhole>> TcpBlackhole::Create(SocketAddress at) {
  std::unique_ptr<TcpBlackhole> h(new TcpBlackhole());
  h->listener_ = socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (h->listener_ < 0) return absl::ErrnoToStatus(errno, "blackhole: socket");
  if (bind(h->listener_, at.sockaddr_ptr(), at.socklen()) != 0 || listen(h->listener_, 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("blackhole: listen on ", at.ToString()));
  }
  absl::StatusOr<SocketAddress> bound = SocketAddress::LocalOf(h->listener_);
  if (!bound.ok()) return bound.status();
  h->address_ = *bound;
  // One connection fills the queue (full means more than the backlog of 0). A blocking
  // connect returns once the handshake is done on our side; poll() then waits until the
  // kernel has queued it on the listener's side too — no clock involved.
  h->filler_ = socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (h->filler_ < 0) return absl::ErrnoToStatus(errno, "blackhole: socket");
  if (connect(h->filler_, h->address_.sockaddr_ptr(), h->address_.socklen()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("blackhole: connect ", h->address_.ToString()));
  }
  pollfd p{h->listener_, POLLIN, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  return h;
}

TcpBlackhole::~TcpBlackhole() {
  if (filler_ >= 0) close(filler_);
  if (listener_ >= 0) close(listener_);
}

}  // namespace corio::testing
