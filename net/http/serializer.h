// Request serialization for HTTP/1.1: the request line, header fields and body framing, with
// every field checked so that a caller's data can never inject a header or split a request.
//
//   corio::http::RequestHead req{"POST", "/upload", {{"Host", "example.com"}}};
//   std::string wire;
//   CORIO_RETURN_IF_ERROR(corio::http::SerializeRequestHead(
//       req, corio::http::RequestBody::Length(body.size()), &wire));
//   wire += body;
//   // or streaming: SerializeRequestHead(req, RequestBody::Chunked(), &wire);
//   //               AppendChunk(piece, &wire); ... AppendLastChunk(&wire);
//
// Errors: INVALID_ARGUMENT for a method that is not a token, a request target with spaces or
// control characters, a field name that is not a token, a field value with CR, LF, NUL or
// other control characters (header injection), or a Content-Length / Transfer-Encoding field
// given by the caller that contradicts the body framing.
#ifndef CORIO_NET_HTTP_SERIALIZER_H_
#define CORIO_NET_HTTP_SERIALIZER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace corio::http {

struct RequestHead {
  std::string method = "GET";
  std::string target = "/";  // origin-form: path and query
  std::vector<std::pair<std::string, std::string>> headers;
};

// How the request body is framed.
struct RequestBody {
  enum Kind { kNone, kLength, kChunked };
  Kind kind = kNone;
  uint64_t length = 0;
  static RequestBody None() { return {}; }
  static RequestBody Length(uint64_t n) { return {kLength, n}; }
  static RequestBody Chunked() { return {kChunked, 0}; }
};

// Appends the request line, the caller's fields, and the framing field (Content-Length or
// Transfer-Encoding: chunked, unless the caller gave a matching one) to *out.
absl::Status SerializeRequestHead(const RequestHead& req, RequestBody body, std::string* out);

// Chunked upload: one chunk (nothing for empty data, which would end the body), then the end.
void AppendChunk(absl::string_view data, std::string* out);
void AppendLastChunk(std::string* out);

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_SERIALIZER_H_
