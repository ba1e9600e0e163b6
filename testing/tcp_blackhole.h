// TcpBlackhole: a loopback address where TCP connects hang — deterministically, without
// waiting on any clock. It is a listener with a backlog of 0 whose accept queue already holds
// one connection that is never accepted: the kernel drops every further SYN, so a connect to
// address() stays in SYN-SENT until the connecting side gives up (timeout, cancellation).
//
//   CORIO_ASSERT_OK_AND_ASSIGN(auto hole, corio::testing::TcpBlackhole::Create());
//   absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(hole->address(), absl::Seconds(3));
//   // DEADLINE_EXCEEDED after exactly 3 s of (virtual) time
//
// Create blocks briefly (one loopback handshake) and needs no event loop.
// Threading: any thread. Ownership: destroying it closes its sockets.
// Errors: the errno of socket/bind/listen/connect.
#ifndef CORIO_TESTING_TCP_BLACKHOLE_H_
#define CORIO_TESTING_TCP_BLACKHOLE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "net/socket_address.h"

namespace corio::testing {

class TcpBlackhole {
 public:
  // `at`: the loopback address to listen on (port 0: any free port).
  static absl::StatusOr<std::unique_ptr<TcpBlackhole>> Create(
      SocketAddress at = SocketAddress::Loopback4(0));
  ~TcpBlackhole();
  TcpBlackhole(const TcpBlackhole&) = delete;
  TcpBlackhole& operator=(const TcpBlackhole&) = delete;

  const SocketAddress& address() const { return address_; }

 private:
  TcpBlackhole() = default;
  int listener_ = -1;
  int filler_ = -1;  // the connection that fills the accept queue
  SocketAddress address_;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_TCP_BLACKHOLE_H_
