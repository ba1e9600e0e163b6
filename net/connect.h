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
// [::1]:443: Connection refused; 127.0.0.1:443: Connection refused`); CANCELLED; when
// `address_filter` refused every address, the first refusal's status (its code, and a message
// that names the address).
// Threading: the loop's thread. `address_filter` and `dial` are called on it.
#ifndef CORIO_NET_CONNECT_H_
#define CORIO_NET_CONNECT_H_

#include <functional>
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
  absl::Duration timeout = absl::Seconds(30);              // resolution and connecting, together
  absl::Duration attempt_delay = absl::Milliseconds(250);  // RFC 8305's "Connection Attempt Delay"
  // Sees every address before it is dialled (after resolution, in ConnectToHost and
  // ConnectToAny alike); a non-OK status refuses that address, which is then skipped. An
  // address policy (the fetch service's SSRF defence) stands on it: nothing it refuses is
  // ever connected to. Empty: every address is allowed.
  std::function<absl::Status(const SocketAddress&)> address_filter;
  // How one address is dialled; empty: TcpStream::Connect. For proxies, socket options and
  // deterministic tests. The returned task must not refer to the function object itself (it
  // may be destroyed before the task ends): use a function or a capture-less lambda that
  // forwards to a coroutine taking what it needs as parameters.
  std::function<Task<absl::StatusOr<TcpStream>>(SocketAddress)> dial;
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
