// dns::Resolver: asynchronous name resolution on c-ares, driven by the current event loop —
// no thread per lookup, no getaddrinfo on a pool. A and AAAA, CNAME chains, a hosts file,
// numeric hosts and `localhost` without a query, a cache that honours TTLs (and caches failures
// briefly), identical lookups in flight shared, per-lookup timeout and cancellation.
//
//   CORIO_ASSIGN_OR_RETURN(auto resolver, corio::dns::Resolver::Create());   // on a loop
//   CORIO_CO_ASSIGN_OR_RETURN(std::vector<corio::SocketAddress> addrs,
//                             co_await resolver->Resolve("example.com", 443));
//
// Options: servers (default: the system's /etc/resolv.conf), per-try timeout and tries, the
// hosts file (default /etc/hosts; tests point it at their own file), cache size and the
// negative-cache TTL.
//
// Answered without a query, in this order: numeric hosts ("127.0.0.1", "::1", "[::1]");
// `localhost`, `*.localhost` (any case, with or without the trailing dot) -> [::1] and
// 127.0.0.1, always, without reading any file (RFC 6761 §6.3, as curl and Go do); names in the
// hosts file (read again when it changes; a missing file has no names). Then the cache, then
// the servers.
//
// Completion contract: Resolve() resumes once, on the loop's thread: at once (no suspension)
// for numeric hosts, localhost, hosts-file names and cache hits, else on a later turn with the
// addresses (IPv6 first, then IPv4, each in the server's order) or an error. Cancelling the task resumes it at once with
// CANCELLED; the query itself runs out on its own (c-ares cannot cancel one query), and its
// answer still fills the cache.
// Errors: NOT_FOUND `dns: no such host "nope.invalid"`; NOT_FOUND `dns: "x" has no addresses`;
// UNAVAILABLE for SERVFAIL, refused or unreachable servers; DEADLINE_EXCEEDED
// `dns: timed out resolving "x"` (after the tries, or the lookup's own timeout);
// INVALID_ARGUMENT for a malformed name; CANCELLED on cancellation or when the resolver is
// destroyed while the lookup is pending.
// Threading: create, use and destroy on one loop's thread. Ownership: destroying the resolver
// completes every pending lookup with CANCELLED and closes its sockets; each waiter is resumed
// on its own loop's next turn, also when that loop is stopped or is being destroyed (a resolver
// kept in EventLoop::Local: the wake-up is then dropped with the loop's queue).
#ifndef CORIO_NET_DNS_RESOLVER_H_
#define CORIO_NET_DNS_RESOLVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/socket_address.h"
#include "tasks/task.h"

namespace corio::dns {

struct ResolverOptions {
  // Name servers; empty: the system's configuration.
  std::vector<SocketAddress> servers;
  absl::Duration try_timeout = absl::Seconds(2);
  int tries = 2;
  // Names in `hosts_file` are answered from it without a query. Empty, or use_hosts_file
  // false: no hosts file.
  bool use_hosts_file = true;
  std::string hosts_file = "/etc/hosts";
  // A whole lookup's bound, beyond the tries (InfiniteDuration: none).
  absl::Duration lookup_timeout = absl::Seconds(10);
  size_t cache_entries = 10000;  // 0 disables the cache
  absl::Duration negative_ttl = absl::Seconds(5);
  absl::Duration max_ttl = absl::Hours(1);
};

struct ResolverStats {
  uint64_t lookups = 0;
  uint64_t cache_hits = 0;
  uint64_t queries = 0;  // sent to c-ares
  uint64_t shared = 0;   // joined an identical lookup already in flight
};

class Resolver {
 public:
  static absl::StatusOr<std::unique_ptr<Resolver>> Create();
  static absl::StatusOr<std::unique_ptr<Resolver>> Create(ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // `family`: AF_UNSPEC (both), AF_INET or AF_INET6.
  Task<absl::StatusOr<std::vector<SocketAddress>>> Resolve(std::string host, uint16_t port,
                                                           int family = AF_UNSPEC);

  const ResolverStats& stats() const { return stats_; }
  void ClearCache();

  class Impl;

 private:
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ResolverStats stats_;
};

}  // namespace corio::dns

#endif  // CORIO_NET_DNS_RESOLVER_H_
