// Internals of FakeHttpServer shared by its .cc files. Not part of the API.
#ifndef CORIO_TESTING_HTTP_SERVER_INTERNAL_H_
#define CORIO_TESTING_HTTP_SERVER_INTERNAL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "net/byte_stream.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "tasks/event.h"
#include "tasks/spawn.h"
#include "tasks/task.h"
#include "testing/http_script.h"
#include "testing/http_server.h"

namespace corio::testing {
namespace http_internal {

// zlib, at runtime: gzip (RFC 1952), zlib (RFC 1950) or raw deflate (RFC 1951).
std::string Compress(HttpResponse::Encoding encoding, absl::string_view data);
// A gzip member that inflates to `decoded_bytes` zeros, built from independently compressed 1 MiB
// units (each ends with a full flush, so they concatenate into one valid stream).
std::string BuildGzipBomb(uint64_t decoded_bytes);

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               absl::string_view name);

// Applies `encoding` to the body once (the result has kIdentity and a Content-Encoding header), so
// fixed routes compress at install time, not per request.
void EncodeBody(HttpResponse& response);

// One route: a fixed response, a handler, or a sequence.
struct Route {
  std::shared_ptr<const HttpResponse> fixed;
  FakeHttpServer::Handler handler;
  std::vector<std::shared_ptr<const HttpResponse>> sequence;
  size_t next = 0;  // sequence position
};

}  // namespace http_internal

struct FakeHttpServer::State {
  Options options;
  EventLoop* loop = nullptr;
  TcpListener listener;
  SocketAddress address;
  bool background = false;

  // Routing (any thread).
  std::mutex routes_mu;
  std::map<std::string, http_internal::Route, std::less<>> exact;
  std::map<std::string, http_internal::Route, std::less<>> prefixes;
  Handler default_handler;

  // Counters (any thread).
  mutable std::mutex stats_mu;
  mutable std::condition_variable stats_changed;
  Stats stats;
  int connections_ever = 0;  // not reset by ResetStats
  std::deque<HttpRequest> log;

  // Loop thread only.
  JoinHandle<void> acceptor;  // Start() mode
  Event stop;                 // StartInBackground() mode: set to wind down
  // The TCP streams of connections past their TLS handshake, so Stop() closes them at once.
  std::set<ByteStream*> transports;

  // The response for `request` (the routed one, or the default 404). Calls handlers.
  std::shared_ptr<const HttpResponse> Resolve(const HttpRequest& request);

  // Returns the connection's index (0 for the first since the start).
  int OnAccepted();
  void OnTlsHandshake(bool ok, bool resumed);
  void OnClosed();
  void OnRequest(const HttpRequest& request, const std::string& host);
  void OnAnswered(const std::string& host);
};

namespace http_internal {

constexpr size_t kReadChunk = 16 * 1024;

bool IsTokenChar(unsigned char c);

// One connection's stream and read buffer.
struct Conn {
  std::shared_ptr<FakeHttpServer::State> state;
  std::unique_ptr<ByteStream> stream;  // the TcpStream, or a TlsStream over it
  ByteStream* transport = nullptr;     // the TcpStream
  int fd = -1;                         // its socket, for SO_LINGER
  std::string peer;
  bool tls = false;
  std::string tls_server_name;
  std::vector<char> buf = std::vector<char>(kReadChunk);
  size_t begin = 0;
  size_t end = 0;
  std::string out;  // reused for coalesced writes

  absl::string_view pending() const { return absl::string_view(buf.data() + begin, end - begin); }

  // Reads more bytes after `end`; returns 0 at EOF, DEADLINE_EXCEEDED if none came by
  // `deadline`.
  Task<absl::StatusOr<size_t>> Fill(absl::Time deadline = absl::InfiniteFuture());
};

struct ReadOutcome {
  enum Kind { kRequest, kEof, kReject, kIoError };
  Kind kind = kRequest;
  int reject_status = 400;
  std::string reject_reason;

  static ReadOutcome Reject(int status, std::string reason) {
    return ReadOutcome{kReject, status, std::move(reason)};
  }
};

// Reads the next request into `req` (and answers `Expect: 100-continue`).
Task<ReadOutcome> ReadRequest(Conn& c, HttpRequest& req);

// Accepts connections until the listener fails or the task is cancelled; then cancels the
// connections and waits for them.
Task<void> AcceptLoop(std::shared_ptr<FakeHttpServer::State> state);
// Serves one connection until it closes.
Task<void> ServeConnection(std::shared_ptr<FakeHttpServer::State> state, TcpStream conn);

}  // namespace http_internal
}  // namespace corio::testing

#endif  // CORIO_TESTING_HTTP_SERVER_INTERNAL_H_
