// ScriptServer (test-only, for the HTTP client's own tests and fuzz target): a
// raw HTTP/1.1 server on loopback whose every answer is bytes a handler returns
// — well-formed or not — so tests can script exactly what a hostile or broken
// server sends. Runs on the current loop.
//
//   auto server = ScriptServer::Start([](const RawRequest& req) {
//     return Reply::Bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
//   }).value();
//   co_await client.Get(server->Url("/x"));
//   server->connections(), server->requests()     // counted
//
// Each connection reads a request head (and a Content-Length body), asks the
// handler, writes the reply (after `delay`, or byte by byte every `trickle`),
// then closes, resets, stalls or reads the next request, as the reply says.
// Ownership: destroying the server stops accepting and closes every connection.
// Threading: the loop's thread.
#ifndef CORIO_NET_HTTP_TESTING_SCRIPT_SERVER_H_
#define CORIO_NET_HTTP_TESTING_SCRIPT_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/socket_address.h"
#include "net/tcp_listener.h"
#include "net/tls/tls_context.h"
#include "tasks/spawn.h"

namespace corio::http::testing {

struct RawRequest {
  std::string method, target, head, body;
  int connection_index = 0;  // which connection (0-based) it came on
  int index_on_connection = 0;
  // The first value of a header (any case), or "".
  std::string Header(absl::string_view name) const;
};

struct Reply {
  enum class After { kKeepAlive, kClose, kReset, kStall };
  std::string bytes;
  After after = After::kKeepAlive;
  absl::Duration delay = absl::ZeroDuration();    // before writing
  absl::Duration trickle = absl::ZeroDuration();  // between bytes
  static Reply Bytes(std::string b, After after = After::kKeepAlive) {
    Reply r;
    r.bytes = std::move(b);
    r.after = after;
    return r;
  }
  // "HTTP/1.1 <status> <reason>" with Content-Length, `extra` header lines ("A:
  // b\r\n...").
  static Reply Ok(std::string body, int status = 200, std::string extra = "");
};

using Handler = std::function<Reply(const RawRequest&)>;

class ScriptServer {
 public:
  static absl::StatusOr<std::unique_ptr<ScriptServer>> Start(Handler handler);
  // Serves TLS with `server_ctx` (TlsContext::CreateServer); Url() then says https.
  static absl::StatusOr<std::unique_ptr<ScriptServer>> Start(
      Handler handler, std::shared_ptr<tls::TlsContext> server_ctx);
  ~ScriptServer();

  const SocketAddress& address() const { return address_; }
  uint16_t port() const { return address_.port(); }
  std::string Url(absl::string_view path) const;
  int connections() const { return state_->connections; }
  int requests() const { return state_->requests; }
  int open_connections() const { return state_->open; }
  // Requests read and not yet fully answered, now and at most.
  int in_flight() const { return state_->in_flight; }
  int max_in_flight() const { return state_->max_in_flight; }
  int max_open_connections() const { return state_->max_open; }
  const std::vector<RawRequest>& log() const { return state_->log; }

 private:
  struct State {
    Handler handler;
    std::shared_ptr<tls::TlsContext> tls;
    TcpListener listener;
    int connections = 0, requests = 0, open = 0, max_open = 0, in_flight = 0, max_in_flight = 0;
    std::vector<RawRequest> log;
  };
  ScriptServer() = default;
  static Task<void> AcceptLoop(std::shared_ptr<State> state);
  static Task<void> Serve(std::shared_ptr<State> state, TcpStream conn, int index);

  std::shared_ptr<State> state_;
  SocketAddress address_;
  JoinHandle<void> acceptor_;
};

}  // namespace corio::http::testing

#endif  // CORIO_NET_HTTP_TESTING_SCRIPT_SERVER_H_
