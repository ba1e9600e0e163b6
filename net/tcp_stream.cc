#include "net/tcp_stream.h"

#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "tasks/with_timeout.h"

namespace corio {

// Everything an operation needs, at a stable address: operations are coroutines over a Conn*,
// never over the TcpStream object, which may move while they wait. A Conn* stays valid while
// the operation has not suspended, and after an AsyncFd wait that returned anything but
// CANCELLED (closing the fd turns every pending or scheduled wake-up into CANCELLED).
struct TcpStream::Conn {
  AsyncFd fd;
  SocketAddress peer;
  // Fairness: the previous operation in this direction used up the budget, so the next one
  // yields before it takes or sends any byte.
  bool yield_due[2] = {false, false};
};

namespace {

using Conn = TcpStream::Conn;

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
  afd->ClearWritable();
  absl::Status ready = co_await afd->Writable();
  if (!ready.ok()) co_return ready;  // cancelled: the AsyncFd closes the socket
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) co_return SockError(err, "connect", peer);
  co_return afd;
}

// Before an operation takes or sends a byte: FAILED_PRECONDITION on a closed stream,
// CANCELLED if the task is cancelled, then the fairness yield if one is due (CANCELLED there:
// the Conn may be gone). Expands in the operation's own coroutine (no task per operation).
#define CORIO_TCP_BEGIN_(c, dir, op)                                                            \
  if ((c) == nullptr || !(c)->fd.valid()) {                                                     \
    co_return absl::FailedPreconditionError(op " a closed TcpStream");                          \
  }                                                                                             \
  if ((c)->yield_due[dir]) {                                                                    \
    (c)->yield_due[dir] = false;                                                                \
    absl::Status corio_yield_ = co_await (c)->fd.Yield(dir); /* checks cancellation too */      \
    if (!corio_yield_.ok()) co_return corio_yield_;                                             \
  } else {                                                                                      \
    const bool corio_cancelled_ = co_await AsyncFd::TaskCancelled();                            \
    if (corio_cancelled_) {                                                                     \
      co_return absl::CancelledError(absl::StrCat(op " ", (c)->peer.ToString(), " cancelled")); \
    }                                                                                           \
  }

Task<absl::StatusOr<size_t>> ReadOn(Conn* c, absl::Span<char> buf, absl::Time deadline) {
  CORIO_TCP_BEGIN_(c, 0, "read from");
  bool timed_out = false;
  for (;;) {
    // Not known readable (the last read drained the socket and no event came since): wait
    // for the event rather than spend a read on EAGAIN — after writing a request, the
    // response is seldom there yet. Once the deadline passed, one last read: bytes that
    // arrived in time win over the timeout even when their event was not polled yet.
    if (timed_out || c->fd.readable() || buf.empty()) {
      const ssize_t n = ::read(c->fd.fd(), buf.data(), buf.size());
      if (n >= 0) {
        // A short read emptied the receive queue: bytes arriving from now on raise a new
        // edge, so the next read waits for it instead of finding EAGAIN (unless a hangup, an
        // error or an urgent mark was reported: see ClearReadableAfterShortRead).
        if (n > 0 && static_cast<size_t>(n) < buf.size()) c->fd.ClearReadableAfterShortRead();
        c->yield_due[0] = c->fd.UseBudget(static_cast<size_t>(n));
        co_return static_cast<size_t>(n);
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return SockError(errno, "read from", c->peer);
      c->fd.ClearReadable();
      if (timed_out) {
        co_return absl::DeadlineExceededError(
            absl::StrCat("read from ", c->peer.ToString(), ": deadline exceeded"));
      }
    }
    absl::Status ready = co_await c->fd.Readable(deadline);
    if (absl::IsDeadlineExceeded(ready)) {
      timed_out = true;
      continue;
    }
    if (!ready.ok()) co_return ready;  // nothing taken; if CANCELLED `c` may be gone
  }
}

// What is left to send: pieces[first..], the first one possibly partly sent.
struct Pending {
  absl::InlinedVector<iovec, 4> pieces;
  size_t first = 0;
  bool empty() const { return first == pieces.size(); }
};

Pending PendingOf(absl::Span<const absl::string_view> pieces) {
  Pending p;
  for (absl::string_view v : pieces) {
    if (!v.empty()) p.pieces.push_back(iovec{const_cast<char*>(v.data()), v.size()});
  }
  return p;
}

// Sends what the socket takes now: the bytes sent (0: it would block; writable cleared).
absl::StatusOr<size_t> SendNow(Conn* c, Pending& p) {
  size_t sent = 0;
  while (!p.empty()) {
    msghdr msg = {};
    msg.msg_iov = p.pieces.data() + p.first;
    msg.msg_iovlen = std::min<size_t>(p.pieces.size() - p.first, IOV_MAX);
    const ssize_t n = ::sendmsg(c->fd.fd(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        c->fd.ClearWritable();
        break;
      }
      return SockError(errno, "write to", c->peer);
    }
    sent += static_cast<size_t>(n);
    size_t left = static_cast<size_t>(n);
    while (!p.empty() && left >= p.pieces[p.first].iov_len) left -= p.pieces[p.first++].iov_len;
    if (left > 0) {
      p.pieces[p.first].iov_base = static_cast<char*>(p.pieces[p.first].iov_base) + left;
      p.pieces[p.first].iov_len -= left;
    }
  }
  return sent;
}

// WriteAll/WriteAllv: all of `p`, or an error saying how far it got.
Task<absl::Status> SendAllOn(Conn* c, Pending p, absl::Time deadline) {
  CORIO_TCP_BEGIN_(c, 1, "write to");
  size_t total = 0;
  for (const iovec& v : p.pieces) total += v.iov_len;
  size_t sent = 0;
  for (;;) {
    absl::StatusOr<size_t> n = SendNow(c, p);
    if (!n.ok()) {
      if (sent == 0) co_return n.status();
      co_return absl::Status(n.status().code(), absl::StrCat(n.status().message(), " (after ", sent,
                                                             " of ", total, " bytes)"));
    }
    sent += *n;
    if (p.empty()) break;
    absl::Status ready = co_await c->fd.Writable(deadline);
    if (absl::IsDeadlineExceeded(ready)) {
      ready = absl::DeadlineExceededError(
          absl::StrCat("write to ", c->peer.ToString(), ": deadline exceeded"));
      if (sent == 0) co_return ready;
      co_return absl::Status(ready.code(), absl::StrCat(ready.message(), " (after ", sent, " of ",
                                                        total, " bytes)"));
    }
    if (!ready.ok()) {
      // If CANCELLED, `c` may be gone: the message names no peer.
      if (sent == 0) co_return ready;
      co_return absl::Status(
          ready.code(), absl::StrCat("write to a TcpStream: ", ready.message(), " (after ", sent,
                                     " of ", total, " bytes)"));
    }
  }
  c->yield_due[1] = c->fd.UseBudget(sent);
  co_return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> SendSomeOn(Conn* c, absl::string_view data) {
  CORIO_TCP_BEGIN_(c, 1, "write to");
  absl::string_view one[] = {data};
  Pending p = PendingOf(one);
  if (p.empty()) co_return size_t{0};
  for (;;) {
    absl::StatusOr<size_t> n = SendNow(c, p);
    if (!n.ok()) co_return n.status();
    if (*n > 0) {
      c->yield_due[1] = c->fd.UseBudget(*n);
      co_return *n;
    }
    absl::Status ready = co_await c->fd.Writable();
    if (!ready.ok()) co_return ready;  // nothing written
  }
}

Task<absl::Status> ShutdownOn(Conn* c) {
  if (c == nullptr || !c->fd.valid()) {
    co_return absl::FailedPreconditionError("shutdown of a closed TcpStream");
  }
  if (::shutdown(c->fd.fd(), SHUT_WR) != 0) co_return SockError(errno, "shutdown", c->peer);
  co_return absl::OkStatus();
}

#undef CORIO_TCP_BEGIN_

}  // namespace

TcpStream::TcpStream() = default;
TcpStream::TcpStream(TcpStream&&) noexcept = default;
TcpStream& TcpStream::operator=(TcpStream&&) noexcept = default;
TcpStream::~TcpStream() = default;

TcpStream::TcpStream(AsyncFd fd, SocketAddress peer)
    : conn_(std::make_unique<Conn>(Conn{std::move(fd), peer, {false, false}})) {}

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
  return ReadOn(conn_.get(), buf, absl::InfiniteFuture());
}

Task<absl::StatusOr<size_t>> TcpStream::ReadBefore(absl::Span<char> buf, absl::Time deadline) {
  return ReadOn(conn_.get(), buf, deadline);
}

Task<absl::Status> TcpStream::WriteAll(absl::string_view data) {
  absl::string_view one[] = {data};
  return SendAllOn(conn_.get(), PendingOf(one), absl::InfiniteFuture());
}

Task<absl::Status> TcpStream::WriteAllv(absl::Span<const absl::string_view> pieces) {
  return SendAllOn(conn_.get(), PendingOf(pieces), absl::InfiniteFuture());
}

Task<absl::Status> TcpStream::WriteAllvBefore(absl::Span<const absl::string_view> pieces,
                                              absl::Time deadline) {
  return SendAllOn(conn_.get(), PendingOf(pieces), deadline);
}

Task<absl::StatusOr<size_t>> TcpStream::Write(absl::string_view data) {
  return SendSomeOn(conn_.get(), data);
}

Task<absl::Status> TcpStream::Shutdown() { return ShutdownOn(conn_.get()); }

void TcpStream::Close() {
  if (conn_) conn_->fd.Close();
}

bool TcpStream::IsIdleUsable() {
  if (!is_open()) return false;
  for (;;) {
    char byte;
    const ssize_t n = ::recv(conn_->fd.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return false;   // unexpected bytes from an idle peer
    if (n == 0) return false;  // the peer closed
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;  // else reset or another error
  }
}

bool TcpStream::is_open() const { return conn_ != nullptr && conn_->fd.valid(); }

int TcpStream::fd() const { return conn_ ? conn_->fd.fd() : -1; }

const SocketAddress& TcpStream::peer() const {
  static const SocketAddress* const kNone = new SocketAddress();
  return conn_ ? conn_->peer : *kNone;
}

absl::Status TcpStream::SetNoDelay(bool on) {
  const int v = on ? 1 : 0;
  if (setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) {
    return SockError(errno, "setsockopt(TCP_NODELAY)", peer());
  }
  return absl::OkStatus();
}

absl::Status TcpStream::SetKeepAlive(bool on) {
  const int v = on ? 1 : 0;
  if (setsockopt(fd(), SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) != 0) {
    return SockError(errno, "setsockopt(SO_KEEPALIVE)", peer());
  }
  return absl::OkStatus();
}

}  // namespace corio
