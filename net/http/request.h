// Request: what corio::http::Client::Send sends — method, URL, header fields,
// body, and the per-request options (timeout, body limit, what to do with the
// response body).
//
//   corio::http::Request req;
//   req.method = "POST";
//   req.url = "https://api.example/items";
//   req.headers = {{"Content-Type", "application/json"}};
//   req.body = R"({"name":"x"})";
//   req.timeout = absl::Seconds(5);                 // total, every redirect
//   hop included req.body_mode = corio::http::BodyMode::kBuffer;  // Send
//   returns with the body read absl::StatusOr<corio::http::Response> r =
//   co_await client.Send(std::move(req));
//
// Header fields the client adds unless the request has them (any case): Host
// (from the URL), User-Agent (ClientOptions::user_agent), Accept-Encoding
// ("gzip, deflate", and then the body is decoded), Content-Length (when there
// is a body, or the method is POST/PUT/PATCH). A field given here replaces the
// default; an empty value for User-Agent or Accept-Encoding sends none. Fields
// are checked: a name that is not a token or a value with CR, LF or NUL is
// INVALID_ARGUMENT (no header injection).
// Threading / Ownership: a value type; Send takes it by value.
#ifndef CORIO_NET_HTTP_REQUEST_H_
#define CORIO_NET_HTTP_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace corio::http {

// What Send does with the response body before it returns.
enum class BodyMode {
  // Send returns once the head is read; read the body with Response::Read /
  // Text / Discard.
  // The connection stays busy (and counts against the limits) until the body is
  // read to the
  // end or the Response is destroyed.
  kStream,
  // Send reads the whole decoded body into Response::body() (bounded by
  // max_body_bytes).
  kBuffer,
  // Send reads the body to the end and keeps only its size
  // (Response::body_bytes()); the
  // connection is back in the pool when Send returns.
  kDiscard,
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Total time for this request — DNS, connect, TLS, writing, every read and
  // every redirect hop and retry, and reading the body (also through
  // Response::Read after Send returned). Unset: ClientOptions::total_timeout.
  std::optional<absl::Duration> timeout;
  // Largest decoded body accepted (RESOURCE_EXHAUSTED past it). Unset:
  // ClientOptions::max_body_bytes.
  std::optional<uint64_t> max_body_bytes;
  BodyMode body_mode = BodyMode::kStream;
  // Unset: ClientOptions::follow_redirects.
  std::optional<bool> follow_redirects;
  // Redirects to follow at most for this request. Unset: ClientOptions::max_redirects.
  std::optional<int> max_redirects;
};

// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 §9.2.2): safe to replay or
// retry.
bool IsIdempotentMethod(absl::string_view method);

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_REQUEST_H_
