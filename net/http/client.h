// Client: an HTTP/1.1 client with a connection pool — aiohttp's ClientSession
// for corio.
//
//   corio::Task<absl::StatusOr<std::string>> Fetch(corio::http::Client& client,
//   std::string url) {
//     CORIO_CO_ASSIGN_OR_RETURN(corio::http::Response r, co_await
//     client.Get(url)); co_return co_await r.Text();
//   }
//   corio::http::Client client;                      // on the loop's thread;
//   default options std::vector<corio::Task<absl::StatusOr<std::string>>>
//   tasks; for (const std::string& u : urls) tasks.push_back(Fetch(client, u));
//   auto bodies = co_await corio::GatherSettled(std::move(tasks));
//
// What one request does: parse the URL; take a pooled keep-alive connection to
// the same (scheme, host, port) or open one (DNS, the address filter on every
// resolved address, Happy Eyeballs connect, TLS for https) within `limit` /
// `limit_per_host`; write the request (one write); read the head; follow
// redirects (301/302/303/307/308, method rules of RFC 9110 §15.4,
// `max_redirects`, a loop guard, Authorization/Cookie dropped when the origin
// changes); retry per RetryPolicy; return the Response with its body still to
// read (BodyMode::kStream) or already read (kBuffer/kDiscard). An idempotent
// request that fails on a *reused* connection before any response byte arrived
// is replayed once on a new connection.
//
// Limits: `limit` bounds the requests in flight on this client (each holds one
// connection from the moment it has one until its body is read to the end or
// its Response is destroyed), `limit_per_host` the same per (scheme, host,
// port); further requests wait in FIFO order (their wait counts against their
// total timeout). Idle keep-alive connections hold no permit; at most
// `max_idle_per_host` of them are kept per host, each for `idle_timeout`. To
// keep the limits exact across the loops of a LoopGroup (one Client per loop),
// give every Client the same `shared_limits`.
//
// Completion contract: Get/Post/Send resume once, on the loop's thread, after
// the whole request (every hop) finished: with a Response, or an error. They
// never complete inline for a network request. Cancelling the calling task
// cancels everything underneath (DNS, connect, TLS, I/O, a wait for a pool slot
// or a backoff) and resumes with CANCELLED; a connection in use is then closed,
// never pooled. Threading: a Client belongs to the loop (thread) that created
// it; every call, and its Responses, on that thread. One Client per loop in a
// LoopGroup. Ownership: the Client owns its pool, resolver and TLS context. It
// must outlive the Get/Post/Send calls in flight on it; Responses may outlive
// it (see response.h). Destroying the Client closes its idle connections.
//
// Errors (canonical codes; messages name the method, the URL and what failed):
//   INVALID_ARGUMENT   malformed URL, unsupported scheme, bad method or header
//   (injection). DEADLINE_EXCEEDED  a timeout, named: "http GET http://h/x:
//   total timeout 5s exceeded",
//                      "... connect timeout 1s exceeded", "... read timeout 30s
//                      exceeded".
//   UNAVAILABLE        connect refused/reset, connection closed before the
//   response ended,
//                      TLS I/O failure.
//   NOT_FOUND          DNS: no such host.
//   DATA_LOSS          malformed response (status line, headers, framing,
//   smuggling
//                      attempts), a redirect with an unusable Location, corrupt
//                      gzip/deflate.
//   RESOURCE_EXHAUSTED response head over 64 KiB / too many headers, body over
//                      max_body_bytes, decompression ratio guard, more
//                      redirects than max_redirects or a redirect loop.
//   UNAUTHENTICATED    TLS certificate verification failed (wrong name,
//   self-signed, expired). PERMISSION_DENIED  (or whatever the filter returns)
//   every address refused by
//                      address_filter.
//   INVALID_ARGUMENT   also: an unusable TlsOptions::ca_file (the first https request).
//   CANCELLED          the calling task was cancelled.
// A response with a 4xx/5xx status is a Response, not an error (see
// RaiseForStatus); when retries run out on a 429/5xx the last response is the
// result.
#ifndef CORIO_NET_HTTP_CLIENT_H_
#define CORIO_NET_HTTP_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/http/client_options.h"
#include "net/http/request.h"
#include "net/http/response.h"
#include "net/http/serializer.h"
#include "tasks/task.h"

namespace corio::http {

namespace http_internal {
class Pool;
}  // namespace http_internal

class Client {
 public:
  Client();
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Task<absl::StatusOr<Response>> Get(std::string url);
  Task<absl::StatusOr<Response>> Post(std::string url, std::string body,
                                      std::string content_type = "application/octet-stream");
  Task<absl::StatusOr<Response>> Send(Request request);

  const ClientOptions& options() const { return options_; }
  ClientStats stats() const;
  // Closes every idle connection now.
  void CloseIdleConnections();

 private:
  // Send's body, inside its total deadline; `request` lives in Send's frame.
  Task<absl::StatusOr<Response>> SendWithin(Request* request, absl::Time deadline,
                                            absl::Duration total);

  ClientOptions options_;
  std::string user_agent_;
  std::shared_ptr<http_internal::Pool> pool_;
  RequestHead scratch_head_;  // reused by every request (serialization never suspends)
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_CLIENT_H_
