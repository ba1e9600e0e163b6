// TcpListener: accepts TCP connections on the current event loop (asyncio's start_server).
//
//   CORIO_ASSIGN_OR_RETURN(corio::TcpListener l, corio::TcpListener::Bind(corio::SocketAddress::Loopback4(0)));
//   uint16_t port = l.local_address().port();           // port 0: the kernel picked one
//   for (;;) {
//     CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream conn, co_await l.Accept());
//     corio::Spawn(Serve(std::move(conn))).Detach();
//   }
//
// Bind sets SO_REUSEADDR. Accept resumes once, on the loop's thread, with a connection, or
// CANCELLED when the task is cancelled. Out of file descriptors (EMFILE/ENFILE) is
// RESOURCE_EXHAUSTED ("accept on 127.0.0.1:8080: too many open files"), returned rather than
// retried in a busy loop.
// Ownership: owns the listening socket; destroying the listener closes it.
#ifndef CORIO_NET_TCP_LISTENER_H_
#define CORIO_NET_TCP_LISTENER_H_

#include "absl/status/statusor.h"
#include "net/async_fd.h"
#include "net/socket_address.h"
#include "net/tcp_stream.h"
#include "tasks/task.h"

namespace corio {

class TcpListener {
 public:
  TcpListener() = default;
  TcpListener(TcpListener&&) noexcept = default;
  TcpListener& operator=(TcpListener&&) noexcept = default;

  static absl::StatusOr<TcpListener> Bind(SocketAddress addr, int backlog = 1024);

  Task<absl::StatusOr<TcpStream>> Accept();
  const SocketAddress& local_address() const { return local_; }
  void Close() { fd_.Close(); }

 private:
  AsyncFd fd_;
  SocketAddress local_;
};

}  // namespace corio

#endif  // CORIO_NET_TCP_LISTENER_H_
