#include "testing/tcp_server.h"

#include <sys/socket.h>

#include <vector>

#include "tasks/sleep.h"
#include "tasks/spawn.h"

namespace corio::testing {
namespace {

Task<void> Serve(TcpStream conn, FakeTcpServer::Options options) {
  using Behavior = FakeTcpServer::Behavior;
  switch (options.behavior) {
    case Behavior::kEcho: {
      std::vector<char> buf(16 * 1024);
      for (;;) {
        absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
        if (!n.ok() || *n == 0) co_return;
        absl::Status w = co_await conn.WriteAll(absl::string_view(buf.data(), *n));
        if (!w.ok()) co_return;
      }
    }
    case Behavior::kCloseAtOnce:
      co_return;
    case Behavior::kReset: {
      const linger abort_on_close{1, 0};
      setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      co_return;
    }
    case Behavior::kStall: {
      // Hold the connection open until cancelled (the server is destroyed).
      (void)co_await Sleep(absl::InfiniteDuration());
      co_return;
    }
    case Behavior::kGreetThenClose:
      (void)co_await conn.WriteAll(options.greeting);
      co_return;
    case Behavior::kSlow:
      for (char c : options.greeting) {
        absl::Status slept = co_await Sleep(options.delay);
        if (!slept.ok()) co_return;
        absl::Status w = co_await conn.WriteAll(absl::string_view(&c, 1));
        if (!w.ok()) co_return;
      }
      co_return;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeTcpServer>> FakeTcpServer::Start(Behavior behavior) {
  Options options;
  options.behavior = behavior;
  return Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<FakeTcpServer>> FakeTcpServer::Start(Options options) {
  std::unique_ptr<FakeTcpServer> s(new FakeTcpServer());
  s->state_ = std::make_shared<State>();
  s->state_->options = std::move(options);
  absl::StatusOr<TcpListener> l = TcpListener::Bind(
      s->state_->options.ipv6 ? SocketAddress::Loopback6(0) : SocketAddress::Loopback4(0));
  if (!l.ok()) return l.status();
  s->state_->listener = *std::move(l);
  s->address_ = s->state_->listener.local_address();
  s->acceptor_ = Spawn(AcceptLoop(s->state_));
  return s;
}

FakeTcpServer::~FakeTcpServer() {
  // Cancels the accept loop, whose TaskGroup cancels and waits for the connections.
  acceptor_.Cancel();
  acceptor_.Detach();
}

Task<void> FakeTcpServer::AcceptLoop(std::shared_ptr<State> state) {
  TaskGroup connections;
  for (;;) {
    absl::StatusOr<TcpStream> conn = co_await state->listener.Accept();
    if (!conn.ok()) break;  // cancelled, or the listener failed
    ++state->connections;
    connections.Spawn(Serve(*std::move(conn), state->options));
  }
  connections.Cancel();
  (void)co_await connections.Wait();
}

}  // namespace corio::testing
