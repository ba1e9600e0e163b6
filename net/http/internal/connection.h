// Connection (internal to the HTTP client): one keep-alive connection — its
// byte stream (TCP or TLS over TCP), a read buffer and a write buffer reused
// for every request it carries, and the response parser. Owned by exactly one
// of: the pool's idle list, a request in flight, or a Response whose body is
// being read.
//
// Threading: the loop's thread.
#ifndef CORIO_NET_HTTP_INTERNAL_CONNECTION_H_
#define CORIO_NET_HTTP_INTERNAL_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "net/byte_stream.h"
#include "net/http/parser.h"
#include "tasks/task.h"

namespace corio::http::http_internal {

// Reads into `buf` before `deadline` (InfiniteFuture: no bound).
// DEADLINE_EXCEEDED when nothing arrived by then.
Task<absl::StatusOr<size_t>> ReadBefore(ByteStream& stream, absl::Span<char> buf,
                                        absl::Time deadline);

// What bounds a read: the request's total deadline and the per-read idle
// timeout. Words the DEADLINE_EXCEEDED error ("http GET http://h/: read timeout
// 30s exceeded").
struct ReadLimits {
  absl::Time total_deadline = absl::InfiniteFuture();
  absl::Duration total_timeout = absl::InfiniteDuration();
  absl::Duration read_timeout = absl::InfiniteDuration();
};

class Connection {
 public:
  Connection(std::unique_ptr<ByteStream> stream, std::string key, std::string peer,
             ParserLimits limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ByteStream& stream() { return *stream_; }
  const std::string& key() const { return key_; }  // "scheme://host:port"
  const std::string& peer() const { return peer_; }
  ResponseParser& parser() { return parser_; }
  std::string& write_buffer() { return wbuf_; }

  // Unconsumed bytes read from the stream.
  absl::string_view buffered() const {
    return absl::string_view(buf_.get() + begin_, end_ - begin_);
  }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Reads more bytes after the buffered ones (moving them to the front, or
  // growing the buffer up to `max_buffer` when it is full). Returns the bytes
  // read, 0 at EOF. `what` words a timeout ("GET http://h/x").
  Task<absl::StatusOr<size_t>> Fill(const ReadLimits& limits, absl::string_view what);
  // Reads straight into `out` (the buffer must be empty): for large bodies, no
  // copy.
  Task<absl::StatusOr<size_t>> ReadInto(absl::Span<char> out, const ReadLimits& limits,
                                        absl::string_view what);

  // Non-blocking, never suspends: false if the peer closed or reset the idle
  // connection, or sent bytes nobody asked for.
  bool IsIdleUsable() const;

  absl::Time idle_since() const { return idle_since_; }
  void set_idle_since(absl::Time t) { idle_since_ = t; }
  uint64_t uses = 0;  // requests written on it

 private:
  std::unique_ptr<ByteStream> stream_;
  std::string key_;
  std::string peer_;
  ResponseParser parser_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
  size_t max_buffer_;
  std::string wbuf_;
  absl::Time idle_since_;
};

// The DEADLINE_EXCEEDED status for a read that ran out of time.
absl::Status ReadTimeoutError(const ReadLimits& limits, absl::string_view what);

}  // namespace corio::http::http_internal

#endif  // CORIO_NET_HTTP_INTERNAL_CONNECTION_H_
