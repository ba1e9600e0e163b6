// FakeHttpServer: a scriptable HTTP/1.1 server on loopback, for tests of HTTP clients (corio's
// and yours), the fetch command's --demo and the fetch service's tests. Not a production server.
//
//   using corio::testing::FakeHttpServer;
//   using corio::testing::HttpResponse;
//   // On the current loop (inside RunTask: virtual time drives its delays):
//   CORIO_CO_ASSIGN_OR_RETURN(std::unique_ptr<FakeHttpServer> server, FakeHttpServer::Start());
//   // Or on its own thread and loop (for a client in another thread or process):
//   //   auto server = FakeHttpServer::StartInBackground().value();
//   // HTTPS, with the throwaway certificates of //testing:tls_certs:
//   //   options.tls = corio::tls::TlsContext::CreateServer(
//   //       {.cert_pem = certs.server().cert_pem, .key_pem = certs.server().key_pem}).value();
//   server->Route("/hello", HttpResponse::Text(200, "hello"));
//   server->RoutePrefix("/files/", [](const corio::testing::HttpRequest& r) {
//     return HttpResponse::Text(200, r.path);
//   });
//   server->RouteSequence("/flaky", {HttpResponse::Status(503).WithRetryAfter(absl::Seconds(1)),
//                                    HttpResponse::Status(503), HttpResponse::Text(200, "ok")});
//   server->Route("/echo", corio::testing::EchoResponse);
//   std::string url = server->url("/hello");   // "http://127.0.0.1:40123/hello"
//   ... run the client ...
//   EXPECT_EQ(server->requests("/flaky"), 3);
//   EXPECT_EQ(server->stats().connections_accepted, 1);   // keep-alive reused one connection
//
// Routing: an exact path match wins, then the longest matching prefix, then the default
// handler (404 "not found"). The path is the target's, without its query. Routes may be
// added and replaced at any time, from any thread. A sequence answers its responses in order,
// one per request, then repeats the last (retry tests: 503, 503, 200).
// Connections: keep-alive by default (HTTP/1.1), pipelined requests answered in order. The
// server closes after a response when the request said `Connection: close` (or was HTTP/1.0
// without keep-alive), the response asked for it, its framing needs it, keep-alive is off, or
// the connection served `max_responses_per_connection`. `Expect: 100-continue` gets a 100. A
// malformed request gets 400 (431 for a head over `max_request_head_bytes`, 413 for a body over
// `max_request_body_bytes`, 505 for another HTTP version) and a close.
//
// Threading: Route*/SetDefault, url, the counters and received_requests may be called from any
// thread; handlers run on the server's loop thread, one at a time. Start() must be called on a
// thread running an EventLoop, and that server destroyed on the same thread, before the loop.
// WaitUntil blocks the calling thread: never call it on the server's own loop thread.
// Ownership: the server owns its listener, its connections and (StartInBackground) its thread
// and loop. Destroying it (or Stop()) closes the listener and every connection's socket before
// it returns (background mode: and joins the thread); on the caller's loop, the connections'
// tasks are cancelled and end within the loop's next turns (corio::Run drains them).
// Errors: Start fails with the bind error ("listen on 127.0.0.1:80: Permission denied"),
// INVALID_ARGUMENT for an address that is not loopback, FAILED_PRECONDITION without a loop.
// The server's own I/O errors only end the connection concerned.
#ifndef CORIO_TESTING_HTTP_SERVER_H_
#define CORIO_TESTING_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "net/socket_address.h"
#include "net/tls/tls_context.h"
#include "testing/http_script.h"

namespace corio::testing {

class FakeHttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  struct Options {
    // A loopback address: 127.0.0.1 (default), any 127.x.y.z, or ::1.
    std::string host = "127.0.0.1";
    uint16_t port = 0;  // 0: the kernel picks one
    bool keep_alive = true;
    // Close a connection after this many responses (0: no limit). With `announce_close`, the
    // last one carries `Connection: close`; without, the server just closes after it (a server
    // that drops idle keep-alive connections without warning).
    int max_responses_per_connection = 0;
    bool announce_close = true;
    // Close a connection that waits this long for the first byte of its next (or first)
    // request, without a word, as servers drop idle keep-alive connections (the loop's clock).
    absl::Duration idle_timeout = absl::InfiniteDuration();
    size_t max_request_head_bytes = 64 * 1024;
    size_t max_request_body_bytes = 64 * 1024 * 1024;
    // How many requests received_requests() keeps (the most recent). 0: none.
    size_t request_log_size = 256;
    // HTTPS: with a server context (tls::TlsContext::CreateServer, e.g. with the certificates
    // of //testing:tls_certs), every connection starts with a TLS handshake and url() says
    // https. A client that does not finish it within `tls_handshake_timeout` (the loop's
    // clock) is dropped; so is one that does not speak TLS.
    std::shared_ptr<tls::TlsContext> tls;
    absl::Duration tls_handshake_timeout = absl::Seconds(10);
  };

  // Counters since the start (or ResetStats). "In flight": a request fully read and not yet
  // fully answered (a stalled one until the client gives up). Per host: by the request's Host
  // header, lower-cased ("" if absent).
  struct Stats {
    int64_t connections_accepted = 0;
    int64_t connections_open = 0;
    int64_t requests = 0;  // requests read (attempts), whatever the answer
    int64_t in_flight = 0;
    int64_t max_in_flight = 0;
    int64_t tls_handshakes = 0;          // completed
    int64_t tls_sessions_resumed = 0;    // of those, resumed (tickets or session ids)
    int64_t tls_handshake_failures = 0;  // failed or timed out
    std::map<std::string, int64_t, std::less<>> requests_by_path;
    std::map<std::string, int64_t, std::less<>> in_flight_by_host;
    std::map<std::string, int64_t, std::less<>> max_in_flight_by_host;
  };

  // Serves on the event loop running on this thread.
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> Start();
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> Start(Options options);
  // Serves on a new thread running its own loop (system clock). Returns once listening.
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> StartInBackground();
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> StartInBackground(Options options);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  // Stops accepting and closes every connection (see Ownership). Idempotent.
  void Stop();

  // Exact path.
  void Route(std::string path, HttpResponse response);
  void Route(std::string path, Handler handler);
  // Every path starting with `prefix` (the longest prefix wins).
  void RoutePrefix(std::string prefix, HttpResponse response);
  void RoutePrefix(std::string prefix, Handler handler);
  void RouteSequence(std::string path, std::vector<HttpResponse> responses);
  // Replaces the 404 answer for unrouted paths.
  void SetDefault(Handler handler);

  const SocketAddress& address() const { return address_; }
  uint16_t port() const { return address_.port(); }
  // "127.0.0.1:40123", "[::1]:40123": what a client puts in Host.
  std::string authority() const;
  // "http://127.0.0.1:40123" + path (a '/' is added in front if missing); https with TLS.
  std::string url(absl::string_view path = "/") const;

  Stats stats() const;
  int64_t requests() const;
  int64_t requests(absl::string_view path) const;
  int64_t max_in_flight_for_host(absl::string_view host) const;
  void ResetStats();
  // The most recent requests (Options::request_log_size), oldest first.
  std::vector<HttpRequest> received_requests() const;
  // Blocks until `done(stats())` holds (re-checked whenever a counter changes) or `timeout`
  // passed; returns whether it holds. For a test thread watching a background server.
  bool WaitUntil(absl::FunctionRef<bool(const Stats&)> done,
                 absl::Duration timeout = absl::Seconds(30)) const;

  struct State;  // shared with the server's tasks

 private:
  FakeHttpServer() = default;

  std::shared_ptr<State> state_;
  SocketAddress address_;
  // Background mode: the thread running the loop.
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_HTTP_SERVER_H_
