// FakeTcpServer: a TCP server on loopback for tests of TCP clients, running on the current
// event loop, with one behaviour for every connection:
//
//   CORIO_ASSERT_OK_AND_ASSIGN(auto server, corio::testing::FakeTcpServer::Start(
//       corio::testing::FakeTcpServer::Behavior::kEcho));
//   co_await corio::TcpStream::Connect(server->address());
//
// kEcho: echoes until the client half-closes, then closes. kCloseAtOnce: accepts and closes
// (the client reads EOF). kReset: accepts and aborts (the client gets ECONNRESET). kStall:
// accepts and never reads or writes (for timeouts). kGreetThenClose: writes `greeting`, then
// closes. kSlow: writes `greeting` one byte every `delay` (a slow peer).
// Ownership: destroying the server stops accepting and closes every connection.
// Threading: the loop's thread.
#ifndef CORIO_TESTING_TCP_SERVER_H_
#define CORIO_TESTING_TCP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/socket_address.h"
#include "net/tcp_listener.h"
#include "tasks/task_group.h"

namespace corio::testing {

class FakeTcpServer {
 public:
  enum class Behavior { kEcho, kCloseAtOnce, kReset, kStall, kGreetThenClose, kSlow };
  struct Options {
    Behavior behavior = Behavior::kEcho;
    std::string greeting = "hello\n";
    absl::Duration delay = absl::Milliseconds(10);
    bool ipv6 = false;
  };

  static absl::StatusOr<std::unique_ptr<FakeTcpServer>> Start(Behavior behavior);
  static absl::StatusOr<std::unique_ptr<FakeTcpServer>> Start(Options options);
  ~FakeTcpServer();

  const SocketAddress& address() const { return address_; }
  int connections() const { return state_->connections; }

 private:
  // Shared with the accept loop, which may outlive the server object by a few turns (it is
  // cancelled on destruction and winds down on its own).
  struct State {
    Options options;
    TcpListener listener;
    int connections = 0;
  };
  FakeTcpServer() = default;
  static Task<void> AcceptLoop(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  SocketAddress address_;
  JoinHandle<void> acceptor_;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_TCP_SERVER_H_
