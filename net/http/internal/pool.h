// Pool (internal to the HTTP client): the per-Client state shared with its
// Responses — idle keep-alive connections per (scheme, host, port), the request
// limits (total and per host, local or SharedLimits across loops), the
// resolver, and the counters.
//
// A request holds a Permit from the moment it may use a connection until its
// body is done or its Response dies; idle connections hold none. Permits are
// taken per host first, then in total, so a request waiting for its host never
// holds a total permit others could use. Ownership: shared by the Client and
// every live Response (a Response may outlive its Client: Close() then makes
// every returned connection close instead of idling). Threading: the loop's
// thread (SharedLimits are thread-safe).
#ifndef CORIO_NET_HTTP_INTERNAL_POOL_H_
#define CORIO_NET_HTTP_INTERNAL_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "loop/event_loop.h"
#include "net/dns/resolver.h"
#include "net/http/client_options.h"
#include "net/http/internal/connection.h"
#include "net/http/internal/shared_limits_impl.h"
#include "net/tls/tls_context.h"
#include "tasks/semaphore.h"
#include "tasks/task.h"

namespace corio::http::http_internal {

class Pool {
 public:
  explicit Pool(const ClientOptions& options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits for a permit for `key` (which must outlive the call: a coroutine keeps the
  // reference). OK, or CANCELLED.
  Task<absl::Status> AcquirePermit(const std::string& key);
  // Takes a permit for `key` now if one is free and nobody waits for it; never suspends.
  bool TryAcquirePermit(const std::string& key);
  void ReleasePermit(const std::string& key);

  // The most recently used idle connection to `key` that is still usable (stale ones are
  // closed on the way), or null. The idle check (Connection::IsIdleUsable, a syscall) is
  // skipped for a connection idle less than kFreshIdle when `replayable` (an idempotent
  // request: if the peer did close it in that instant, the request is replayed on a new
  // connection) — under load nearly every reuse is such, and the check was a quarter of the
  // client's syscalls.
  static constexpr absl::Duration kFreshIdle = absl::Milliseconds(1);
  std::unique_ptr<Connection> TakeIdle(const std::string& key, bool replayable);
  // A connection whose response ended cleanly and which may carry another
  // request: kept idle (unless the pool is closed or the host has enough idle
  // ones: then closed).
  void PutIdle(std::unique_ptr<Connection> conn);
  // Counts and destroys (closes) a connection that is not reusable.
  void Discard(std::unique_ptr<Connection> conn);

  void CloseIdle();
  // The Client is gone: close idle connections, and every connection returned
  // from now on.
  void Close();
  bool closed() const { return closed_; }

  // The resolver (created on first use unless the options gave one).
  absl::StatusOr<dns::Resolver*> resolver();
  // The TLS client context of the Client (created on first use from ClientOptions::tls;
  // shared by its connections, it holds the session cache).
  absl::StatusOr<std::shared_ptr<tls::TlsContext>> tls_context();

  ClientStats& stats() { return stats_; }
  int idle_count() const { return idle_total_; }

 private:
  struct Host {
    std::unique_ptr<Semaphore> sem;                 // null without a per-host limit
    std::vector<std::unique_ptr<Connection>> idle;  // oldest first
    int users = 0;                                  // permit holders and waiters
  };
  Host& HostFor(const std::string& key);
  void MaybeForget(const std::string& key);
  // Closes idle connections past the idle timeout, at most twice per idle
  // timeout (done lazily on pool activity: no timer outlives a loop this way).
  void MaybeSweep(absl::Time now);

  const int limit_per_host_;
  const int max_idle_per_host_;
  const absl::Duration idle_timeout_;
  absl::Time next_sweep_ = absl::InfinitePast();
  std::shared_ptr<SharedLimits> shared_;
  Semaphore total_;
  absl::node_hash_map<std::string, Host> hosts_;
  int idle_total_ = 0;
  bool closed_ = false;
  std::unique_ptr<dns::Resolver> own_resolver_;
  dns::Resolver* resolver_ = nullptr;
  TlsOptions tls_options_;
  std::shared_ptr<tls::TlsContext> tls_;
  ClientStats stats_;
};

}  // namespace corio::http::http_internal

#endif  // CORIO_NET_HTTP_INTERNAL_POOL_H_
