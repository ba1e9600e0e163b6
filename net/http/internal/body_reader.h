// BodyReader (internal to the HTTP client): reads one response off a connection
// — the head, then the body, decoded and bounded — and hands the connection
// back to the pool when the response ended cleanly (or closes it on any other
// path). Owned by the Response.
//
// Body bytes the parser finds are kept as views into the connection's read
// buffer (`pending`) until the caller's buffer takes them: no copy but the one
// into the caller's buffer, and none at all for a large Content-Length body
// read straight into the caller's buffer. Threading: the loop's thread.
#ifndef CORIO_NET_HTTP_INTERNAL_BODY_READER_H_
#define CORIO_NET_HTTP_INTERNAL_BODY_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "net/http/decoding.h"
#include "net/http/internal/connection.h"
#include "net/http/internal/pool.h"
#include "tasks/task.h"

namespace corio::http::http_internal {

struct BodyLimits {
  uint64_t max_body_bytes = UINT64_MAX;
  double max_ratio = 0;  // 0: no ratio guard
  uint64_t ratio_after = 0;
};

class BodyReader {
 public:
  // Holds a permit of `pool` for `conn->key()`; releases it when the body is
  // done or on destruction.
  BodyReader(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn, ReadLimits limits,
             std::string what);
  ~BodyReader();
  BodyReader(const BodyReader&) = delete;
  BodyReader& operator=(const BodyReader&) = delete;

  // Reads the response head (skipping 1xx interim responses). After OK,
  // conn().parser().head() holds views valid until the next Read. `*any_bytes`:
  // whether any response byte arrived.
  Task<absl::Status> ReadHead(bool* any_bytes);
  // After the head: decode with `coding` (identity when null) within `limits`.
  absl::Status StartBody(ContentCoding coding, BodyLimits limits);

  // Decoded body bytes into `out`; 0 at the end (the connection is released by
  // then).
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> out);
  // Closes the connection without reading further.
  void Abort();

  bool done() const { return done_; }
  // The whole raw body is in the read buffer, identity-coded, at most `max` bytes: reading
  // it will not suspend.
  bool RawBodyBuffered(size_t max) const;
  // Raw body bytes already found and not yet read.
  size_t PendingBytes() const;
  uint64_t decoded_bytes() const { return decoded_; }
  Connection* conn() { return conn_.get(); }
  const std::string& what() const { return what_; }

 private:
  absl::Status Fail(absl::Status s);
  // Parses buffered bytes (reading more when needed) until body bytes are
  // pending or the raw body has ended.
  Task<absl::Status> MoreRaw();
  absl::Status Count(size_t n);
  void Complete();
  void ReleaseConnection(bool reusable);

  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> conn_;
  std::string key_;
  ReadLimits limits_;
  std::string what_;
  BodyLimits body_limits_;
  std::unique_ptr<ContentDecoder> decoder_;
  std::vector<absl::string_view> pending_;  // raw body bytes, views into conn_'s buffer
  size_t pending_head_ = 0;                 // first unconsumed entry of pending_
  bool raw_done_ = false;
  bool done_ = false;
  bool permit_held_ = true;
  uint64_t decoded_ = 0;
  absl::Status status_;
};

}  // namespace corio::http::http_internal

#endif  // CORIO_NET_HTTP_INTERNAL_BODY_READER_H_
