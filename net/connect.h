// Connect to a host name: resolve it, then race connections with Happy Eyeballs v2 (RFC 8305)
// — address families interleaved (IPv6 first), a new attempt every 250 ms or as soon as one
// fails, the first connection wins, the others are cancelled, waited for and closed.
//
//   CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream conn,
//       co_await corio::ConnectToHost(resolver, "example.com", 443));
//
// Completion contract: resumes once, on the loop's thread, when a connection succeeded (every
// other attempt has been stopped and closed by then) or every address failed.
// Errors: the resolver's errors; DEADLINE_EXCEEDED when `timeout` passes; UNAVAILABLE when
// every address failed, listing each (`connect example.com:443: all 2 addresses failed:
// [::1]:443: Connection refused; 127.0.0.1:443: Connection refused`); CANCELLED.
#ifndef CORIO_NET_CONNECT_H_
#define CORIO_NET_CONNECT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/dns/resolver.h"
#include "net/socket_address.h"
#include "net/tcp_stream.h"
#include "tasks/task.h"

namespace corio {

struct ConnectOptions {
  absl::Duration timeout = absl::Seconds(30);          // resolution and connecting, together
  absl::Duration attempt_delay = absl::Milliseconds(250);  // RFC 8305's "Connection Attempt Delay"
};

// Interleaves address families, starting with the first address's family (RFC 8305 §4).
std::vector<SocketAddress> InterleaveFamilies(const std::vector<SocketAddress>& addrs);

// Races connections to `addrs` (in this order) as Happy Eyeballs does.
Task<absl::StatusOr<TcpStream>> ConnectToAny(std::vector<SocketAddress> addrs,
                                            std::string name_for_errors, ConnectOptions options);

Task<absl::StatusOr<TcpStream>> ConnectToHost(dns::Resolver& resolver, std::string host,
                                             uint16_t port, ConnectOptions options = {});

}  // namespace corio

#endif  // CORIO_NET_CONNECT_H_
