// ClientOptions, RetryPolicy, TlsOptions and ClientStats: the configuration and
// the counters of a corio::http::Client (see client.h).
//
//   corio::http::ClientOptions options;
//   options.limit = 64;                              // requests in flight
//   options.limit_per_host = 8;
//   options.connect_timeout = absl::Seconds(2);
//   options.retry.max_retries = 2;                   // off by default
//   options.tls.ca_file = "/etc/my-ca.pem";
//   corio::http::Client client(options);
//
// Threading / Ownership: values, copied into the Client.
#ifndef CORIO_NET_HTTP_CLIENT_OPTIONS_H_
#define CORIO_NET_HTTP_CLIENT_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/http/shared_limits.h"
#include "net/socket_address.h"

namespace corio {
namespace dns {
class Resolver;
}
namespace http {

// The version in the default User-Agent ("corio/0.1").
inline constexpr absl::string_view kCorioVersion = "0.1";

struct RetryPolicy {
  // Attempts after the first; 0 turns retries off.
  int max_retries = 0;
  // Retry connection-level failures (UNAVAILABLE, connect/read timeouts) and
  // these statuses.
  bool on_connection_errors = true;
  bool on_429 = true;
  bool on_5xx = true;
  // Only GET/HEAD/OPTIONS/TRACE/PUT/DELETE are retried unless this is set.
  bool retry_non_idempotent = false;
  // Backoff before retry n (1-based): initial_backoff * multiplier^(n-1),
  // capped at max_backoff, times a random factor in [1 - jitter, 1 + jitter].
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(10);
  double jitter = 0.2;
  // A 429/503 Retry-After (seconds or an HTTP date) replaces the backoff,
  // capped at this.
  absl::Duration max_retry_after = absl::Seconds(30);
};

struct TlsOptions {
  // PEM file of CAs to trust instead of the system store (empty: the system
  // store).
  std::string ca_file;
  // Skip certificate verification entirely (explicit opt-in; never the
  // default).
  bool insecure = false;
};

struct ClientOptions {
  // Requests in flight (connections in use), total and per (scheme, host,
  // port); 0 for limit_per_host means no per-host bound. aiohttp's
  // TCPConnector(limit, limit_per_host).
  int limit = 100;
  int limit_per_host = 0;
  std::shared_ptr<SharedLimits> shared_limits;  // see SharedLimits
  // Idle keep-alive connections kept per host, and for how long.
  int max_idle_per_host = 32;
  absl::Duration idle_timeout = absl::Seconds(15);

  // Total per request (see Request::timeout), connect (DNS + TCP + TLS, per
  // attempt), and the longest wait for the next bytes while reading (a stalled
  // server). InfiniteDuration: none.
  absl::Duration total_timeout = absl::Minutes(5);
  absl::Duration connect_timeout = absl::Seconds(30);
  absl::Duration read_timeout = absl::Seconds(60);

  bool follow_redirects = true;
  int max_redirects = 10;
  RetryPolicy retry;
  TlsOptions tls;

  // Empty: "corio/<kCorioVersion>".
  std::string user_agent;
  // Send Accept-Encoding: gzip, deflate and decode such bodies.
  bool decompress = true;
  // Largest decoded body (RESOURCE_EXHAUSTED past it); Request::max_body_bytes
  // overrides.
  uint64_t max_body_bytes = uint64_t{1} << 30;
  // Decompression-bomb guard: once a decoded body passes `ratio_guard_after`
  // bytes, decoded bytes may be at most this many times the encoded bytes read
  // (RESOURCE_EXHAUSTED).
  double max_decompression_ratio = 200;
  uint64_t ratio_guard_after = uint64_t{8} << 20;
  // Largest response head (status line + header fields).
  size_t max_head_bytes = 64 * 1024;

  // Called on every resolved address before it is dialled, redirect hops and
  // retries included (an SSRF policy); a non-OK status refuses the address, and
  // when every address of a host is refused the request fails with the first
  // refusal.
  std::function<absl::Status(const SocketAddress&)> address_filter;
  // Resolver to use (not owned; must outlive the Client); null: the Client
  // creates its own.
  dns::Resolver* resolver = nullptr;
};

// Counters since the Client was created (for tests, metrics and the fetch
// service).
struct ClientStats {
  uint64_t requests = 0;            // Send calls
  uint64_t attempts = 0;            // requests written to a connection (hops, retries, replays)
  uint64_t connections_opened = 0;  // successful connects (TCP + TLS)
  uint64_t connections_reused = 0;  // attempts that took an idle pooled connection
  uint64_t connections_closed = 0;  // closed by the client (not returned to the pool)
  uint64_t connect_failures = 0;
  uint64_t retries = 0;  // retries per RetryPolicy
  uint64_t replays = 0;  // replays after a reused connection failed
  uint64_t redirects = 0;
  uint64_t failures = 0;       // Send calls that returned an error
  int idle_connections = 0;    // now
  int active_connections = 0;  // now: connections in use (permits held)
};

}  // namespace http
}  // namespace corio

#endif  // CORIO_NET_HTTP_CLIENT_OPTIONS_H_
