// Response: what corio::http::Client returns — status, reason, headers, the
// final URL, the redirects that led there, and the body (aiohttp's
// ClientResponse).
//
//   CORIO_CO_ASSIGN_OR_RETURN(corio::http::Response r, co_await
//   client.Get(url)); CORIO_CO_RETURN_IF_ERROR(r.RaiseForStatus());          //
//   4xx/5xx as a Status CORIO_CO_ASSIGN_OR_RETURN(std::string text, co_await
//   r.Text());
//
//   // or streamed, a 1 GiB download in a 64 KiB buffer:
//   std::vector<char> buf(64 * 1024);
//   for (;;) {
//     CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await
//     r.Read(absl::MakeSpan(buf))); if (n == 0) break; // the end of the body
//     Write(buf.data(), n);
//   }
//
// The body is decoded (gzip, deflate) when the server sent it Content-Encoded;
// Read and Text give decoded bytes, body_bytes() counts them. Limits: the
// request's max_body_bytes (decoded) and the client's decompression-ratio
// guard.
//
// Completion contract: Read/Text/Discard resume once, on the loop's thread,
// possibly without suspending (bytes already buffered). Each read waits at most
// the client's read_timeout for bytes and never past the request's total
// deadline (DEADLINE_EXCEEDED naming the timeout and the URL). Cancelling the
// calling task makes a pending Read return CANCELLED; the connection is then
// closed. Not re-entrant: one Read/Text/Discard at a time.
//
// Ownership: a Response owns its connection until the body has been read to the
// end. Then — if the body was framed cleanly and the server did not ask to
// close — the connection goes back to its Client's pool at once (before Read
// returns 0), and the request's pool permits are released; otherwise it is
// closed. Destroying a Response whose body was not read to the end closes the
// connection (it is never returned dirty) and releases the permits. A Response
// may outlive its Client (its body can still be read; the connection is then
// closed at the end instead of pooled), but not the event loop: destroy it on
// the loop's thread, before the loop. Threading: the loop's thread of the
// Client that made it. Errors (Read/Text/Discard): DEADLINE_EXCEEDED (read or
// total timeout), UNAVAILABLE (the connection failed or closed before the body
// ended: truncation), DATA_LOSS (malformed chunked framing, corrupt or
// truncated gzip/deflate), RESOURCE_EXHAUSTED (body over max_body_bytes, or the
// decompression ratio guard), CANCELLED. After an error every later Read
// returns the same error.
#ifndef CORIO_NET_HTTP_RESPONSE_H_
#define CORIO_NET_HTTP_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "net/http/header_map.h"
#include "net/http/url.h"
#include "tasks/task.h"

namespace corio::http {

namespace http_internal {
class BodyReader;
}

// One response that redirected on the way to the final one.
struct Redirect {
  std::string url;       // the URL that answered with a redirect
  int status = 0;        // 301, 302, 303, 307 or 308
  std::string location;  // the Location field as sent
};

class Response {
 public:
  Response();
  ~Response();
  Response(Response&& other) noexcept;
  Response& operator=(Response&& other) noexcept;
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  int version_minor() const { return version_minor_; }  // HTTP/1.<version_minor>
  const HeaderMap& headers() const { return headers_; }
  // The final URL (after redirects), normalized.
  const Url& url() const { return url_; }
  std::string url_string() const { return url_.ToString(); }
  // The redirects followed, in order (empty without redirects).
  const std::vector<Redirect>& history() const { return history_; }
  // Attempts beyond the first that Send made for this result (retries and the
  // replay of a request that failed on a reused connection).
  int retries() const { return retries_; }

  // 2xx and 3xx.
  bool ok() const { return status_ >= 200 && status_ < 400; }
  // OK for 1xx–3xx; for 4xx/5xx an error whose code follows the status (400
  // INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404/410
  // NOT_FOUND, 408/504 DEADLINE_EXCEEDED, 409 ABORTED, 412 FAILED_PRECONDITION,
  // 429 RESOURCE_EXHAUSTED, 501 UNIMPLEMENTED, 502/503 UNAVAILABLE, other 4xx
  // FAILED_PRECONDITION, other 5xx INTERNAL), message `http 404 Not Found: GET
  // http://host/x`.
  absl::Status RaiseForStatus() const;

  // Reads decoded body bytes into `buf`: at least one byte, or 0 at the end of
  // the body.
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf);
  // The whole body (what is buffered plus the rest, read now). Moves it out of
  // the Response: call once.
  Task<absl::StatusOr<std::string>> Text();
  // Reads the rest of the body and drops it (so the connection can be pooled).
  Task<absl::Status> Discard();
  // Closes the connection now without reading further (when the body is not
  // wanted).
  void Close();

  // The body read by Send under BodyMode::kBuffer (empty otherwise).
  const std::string& body() const { return body_; }
  // Decoded body bytes delivered so far (Read, Text, Discard, or by Send).
  uint64_t body_bytes() const { return body_bytes_; }
  // The body has been read to the end (or there is none).
  bool body_done() const;
  // The Content-Length the server sent, if any (of the encoded body).
  std::optional<uint64_t> content_length() const { return content_length_; }

 private:
  friend class Client;
  friend class ResponseTestPeer;
  friend class http_internal::BodyReader;

  int status_ = 0;
  int version_minor_ = 1;
  int retries_ = 0;
  std::string reason_;
  std::string method_;
  HeaderMap headers_;
  Url url_;
  std::vector<Redirect> history_;
  std::optional<uint64_t> content_length_;
  // Reads the rest of the body into body_ if it is small, identity-coded and already buffered.
  Task<absl::Status> Prefetch();

  std::string body_;
  size_t body_pos_ = 0;  // how much of body_ Read/Text/Discard consumed
  uint64_t body_bytes_ = 0;
  std::unique_ptr<http_internal::BodyReader> reader_;  // null once the body is done
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_RESPONSE_H_
