// The scripting vocabulary of FakeHttpServer (testing/http_server.h): HttpRequest, what a
// handler sees, and HttpResponse, what it answers — a normal response or a scripted misbehaviour.
//
//   using corio::testing::HttpResponse;
//   server->Route("/ok", HttpResponse::Text(200, "hello"));
//   server->Route("/moved", HttpResponse::Redirect(301, "/ok"));
//   server->Route("/gz", HttpResponse::Text(200, big).WithEncoding(Encoding::kGzip));
//   server->Route("/chunks", HttpResponse::Text(200, "abcdef").WithChunks({1, 2, 3}));
//   server->Route("/slow", HttpResponse::Text(200, "zz").WithDelayBeforeHead(absl::Seconds(2)));
//   server->Route("/cut", HttpResponse::Text(200, std::string(1000, 'x'))
//                             .WithFault(HttpResponse::Fault::kCloseAfterBodyBytes, 100));
//   server->Route("/bad", HttpResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"));
//
// A response is sent in this order: `delay_before_head`; `gate`; `interim` 1xx responses; the
// head; `delay_before_body`; the body (framed by `framing`, encoded by `encoding`), the fault at
// its point. With `trickle_bytes` > 0 every part goes out `trickle_bytes` at a time, one piece
// per `trickle_interval`. Delays use the server loop's clock (virtual time works on Start()).
// Automatic headers (unless `auto_headers` is false or the header is already in `headers`):
// Content-Length or Transfer-Encoding: chunked, Content-Encoding, and Connection: close when
// the server closes after this response. HEAD requests get the head (with the length the body
// would have) and no body; 1xx, 204 and 304 get no body and no length.
//
// Threading: HttpRequest and HttpResponse are plain values; HttpGate is thread-safe.
// Ownership: values; a response owns a copy of its body.
#ifndef CORIO_TESTING_HTTP_SCRIPT_H_
#define CORIO_TESTING_HTTP_SCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace corio::testing {

// A request as the server parsed it.
struct HttpRequest {
  std::string method;   // "GET"
  std::string target;   // as sent: "/a/b?x=1" (or an absolute URL, if the client sent one)
  std::string path;     // the target's path (without query, scheme or host): "/a/b"
  std::string query;    // "x=1" (without '?'; empty if none)
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, duplicates kept
  std::string body;                                          // de-chunked; empty without one
  bool chunked = false;         // the body came with Transfer-Encoding: chunked
  int connection_index = 0;     // which connection it came on: 0 for the server's first, ...
  int index_on_connection = 0;  // 0 for a connection's first request, 1 for the next ...
  std::string peer;             // "127.0.0.1:54321"
  bool tls = false;             // it came over TLS
  std::string tls_server_name;  // the SNI the client sent ("" if none)

  // The first value of header `name` (case-insensitive), or nullopt.
  std::optional<absl::string_view> Header(absl::string_view name) const;
  // Every value of `name`, in order.
  std::vector<absl::string_view> Headers(absl::string_view name) const;
  bool HasHeader(absl::string_view name) const { return Header(name).has_value(); }
};

// A latch a test opens from any thread; responses with `gate` set wait for it before their
// head (after `delay_before_head`). For deterministic in-flight counts: hold N requests,
// assert, open.
class HttpGate {
 public:
  static std::shared_ptr<HttpGate> Create() { return std::make_shared<HttpGate>(); }
  // Wakes every waiting response and lets later ones through at once. Any thread.
  void Open();
  bool is_open() const;
  // Responses waiting for the gate right now. Any thread.
  int waiting() const;

  // For the server: calls `wake` (on the opening thread, under the gate's lock) when the gate
  // opens, and returns a ticket for CancelWaitInternal; nullopt, without storing `wake`, if the
  // gate is already open. Once CancelWaitInternal returns, `wake` is not running and never will.
  std::optional<uint64_t> WaitInternal(std::function<void()> wake);
  void CancelWaitInternal(uint64_t ticket);

 private:
  mutable std::mutex mu_;
  bool open_ = false;
  uint64_t next_ticket_ = 0;
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters_;
};

// What the server answers. Build one with a factory, then adjust it with the With* methods
// (or set the fields directly).
struct HttpResponse {
  enum class Framing {
    kContentLength,  // Content-Length: size of the (encoded) body
    kChunked,        // Transfer-Encoding: chunked, in `chunk_sizes` pieces
    kUntilClose,     // no length: the body ends when the server closes the connection
  };
  enum class Encoding {
    kIdentity,
    kGzip,        // Content-Encoding: gzip
    kDeflate,     // Content-Encoding: deflate, zlib container (RFC 1950), as the RFC says
    kRawDeflate,  // Content-Encoding: deflate, raw RFC 1951 data, as some servers send it
  };
  enum class Fault {
    kNone,
    kStallBeforeHead,      // read the request, never answer (until the client closes)
    kStallAfterBodyBytes,  // send the head and `fault_after_bytes` body bytes, then stall
    kCloseBeforeHead,      // close (FIN) without answering
    kCloseAfterBodyBytes,  // send the head and `fault_after_bytes` body bytes, then close
    kResetBeforeHead,      // abort (RST, via SO_LINGER 0) without answering
    kResetAfterBodyBytes,  // send the head and `fault_after_bytes` body bytes, then RST
    kEndlessHeaders,       // send the status line, then header lines until the client gives up
  };

  int status = 200;
  std::string reason;  // empty: the standard phrase for `status`
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // before encoding
  Framing framing = Framing::kContentLength;
  // kChunked: the wire chunk sizes, in order; what is left of the body after them goes in one
  // more chunk. Empty: one chunk holding the whole body.
  std::vector<size_t> chunk_sizes;
  std::vector<std::pair<std::string, std::string>> trailers;  // kChunked only
  Encoding encoding = Encoding::kIdentity;
  std::vector<int> interim;  // 1xx statuses sent before this response (e.g. {100, 103})
  bool auto_headers = true;
  // Close the connection after this response; or after it when it is at least the
  // connection's `close_after_responses`-th. With `announce_close`, it says
  // `Connection: close`; without, the server just closes (as idle keep-alive connections are
  // dropped).
  bool close_connection = false;
  int close_after_responses = 0;
  bool announce_close = true;
  absl::Duration delay_before_head = absl::ZeroDuration();
  absl::Duration delay_before_body = absl::ZeroDuration();
  size_t trickle_bytes = 0;  // 0: send at once
  absl::Duration trickle_interval = absl::Milliseconds(10);
  Fault fault = Fault::kNone;
  size_t fault_after_bytes = 0;    // wire bytes of the body (chunk framing included)
  std::shared_ptr<HttpGate> gate;  // wait for it to open before the head
  // If set, these bytes are sent verbatim instead of a head and a body (delays, trickle and
  // faults still apply; "body bytes" then count from the start of `raw`).
  std::optional<std::string> raw;

  // Factories.
  static HttpResponse Text(int status, std::string body,
                           std::string content_type = "text/plain; charset=utf-8");
  static HttpResponse Json(int status, std::string json);
  static HttpResponse Status(int status);  // empty body
  // 3xx with Location (relative or absolute, sent as given).
  static HttpResponse Redirect(int status, std::string location);
  // Sends `bytes` verbatim and closes the connection after them.
  static HttpResponse Raw(std::string bytes);
  static HttpResponse Stall();  // never answers (Fault::kStallBeforeHead)
  static HttpResponse Reset();  // RST instead of an answer
  static HttpResponse Close();  // FIN instead of an answer
  // A 200 whose gzip body (Content-Encoding: gzip) inflates to `decoded_bytes` zeros; about a
  // thousandth of that on the wire (10 GiB of zeros: 10 MB). Built once per size and cached.
  static HttpResponse GzipBomb(uint64_t decoded_bytes);

  // Modifiers (each returns the response, for chaining).
  HttpResponse&& WithHeader(std::string name, std::string value) &&;
  HttpResponse&& WithChunks(std::vector<size_t> sizes) &&;  // Framing::kChunked
  HttpResponse&& WithEncoding(Encoding e) &&;
  HttpResponse&& WithDelayBeforeHead(absl::Duration d) &&;
  HttpResponse&& WithDelayBeforeBody(absl::Duration d) &&;
  HttpResponse&& WithTrickle(size_t bytes, absl::Duration interval) &&;
  HttpResponse&& WithFault(Fault f, size_t after_body_bytes = 0) &&;
  HttpResponse&& WithInterim(std::vector<int> statuses) &&;
  // Adds header `name` whose value is `bytes` long (for header-size limits).
  HttpResponse&& WithHugeHeader(size_t bytes, std::string name = "X-Huge") &&;
  HttpResponse&& WithRetryAfter(absl::Duration d) &&;  // Retry-After: seconds
  HttpResponse&& WithClose(bool announce = true) &&;
  HttpResponse&& WithCloseAfterResponses(int n, bool announce = true) &&;
  HttpResponse&& WithGate(std::shared_ptr<HttpGate> gate) &&;
};

// The standard reason phrase ("Not Found"), "Unknown" for codes without one.
absl::string_view ReasonPhrase(int status);

// Request echo for client tests: a 200 application/json body
//   {"method":"POST","target":"/echo?x=1","path":"/echo","query":"x=1","version":"HTTP/1.1",
//    "headers":[["Host","127.0.0.1:4242"],...],"body":"...","body_bytes":3,"chunked":false}
// Bytes outside printable ASCII in strings are escaped as \u00XX (each byte one code point).
HttpResponse EchoResponse(const HttpRequest& request);

}  // namespace corio::testing

#endif  // CORIO_TESTING_HTTP_SCRIPT_H_
