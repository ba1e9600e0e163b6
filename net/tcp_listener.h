// TcpListener: accepts TCP connections on the current event loop (asyncio's start_server).
//
//   CORIO_ASSIGN_OR_RETURN(corio::TcpListener l,
//                          corio::TcpListener::Bind(corio::SocketAddress::Loopback4(0)));
//   uint16_t port = l.local_address().port();           // port 0: the kernel picked one
//   for (;;) {
//     CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream conn, co_await l.Accept());
//     corio::Spawn(Serve(std::move(conn))).Detach();
//   }
//
// Bind sets SO_REUSEADDR. Accept resumes once, on the loop's thread, with a connection, or
// CANCELLED when the task is cancelled (never after it took a connection: a cancelled Accept
// loses none). Out of file descriptors (EMFILE/ENFILE) is RESOURCE_EXHAUSTED
// ("accept on 127.0.0.1:8080: too many open files"), returned rather than retried in a busy
// loop. FAILED_PRECONDITION on a closed listener.
// Threading: one loop's thread.
// Ownership: owns the listening socket; destroying the listener closes it (a pending Accept
// resumes with CANCELLED). Moving it while an Accept waits is harmless.
#ifndef CORIO_NET_TCP_LISTENER_H_
#define CORIO_NET_TCP_LISTENER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "net/async_fd.h"
#include "net/socket_address.h"
#include "net/tcp_stream.h"
#include "tasks/task.h"

namespace corio {

class TcpListener {
 public:
  TcpListener();
  TcpListener(TcpListener&&) noexcept;
  TcpListener& operator=(TcpListener&&) noexcept;
  ~TcpListener();

  static absl::StatusOr<TcpListener> Bind(SocketAddress addr, int backlog = 1024);

  Task<absl::StatusOr<TcpStream>> Accept();
  const SocketAddress& local_address() const;
  void Close();

  struct State;  // stable across moves (tcp_listener.cc)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace corio

#endif  // CORIO_NET_TCP_LISTENER_H_
