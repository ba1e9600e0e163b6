// ResponseParser: an incremental, strict HTTP/1.1 response parser (RFC 9112). Pure: no I/O,
// no allocation per byte, views instead of copies.
//
//   corio::http::ResponseParser parser;
//   parser.Reset(/*head_request=*/false);
//   std::string buf;                       // the connection's read buffer
//   while (!parser.done()) {
//     buf += ReadSome();                   // (EOF: parser.Finish())
//     CORIO_ASSIGN_OR_RETURN(size_t used, parser.Parse(buf, [&](absl::string_view body) {
//       Consume(body);                     // a view into `buf`: copy it if you keep it
//     }));
//     ... use parser.head() here if parser.head_complete() (views into `buf`) ...
//     buf.erase(0, used);
//   }
//
// Feeding: Parse() consumes a prefix of its input. Until the head (status line and header
// fields) is complete it consumes nothing: keep the bytes, append more, call again with the
// whole unconsumed data (the parser resumes its search where it stopped, so this costs O(new
// bytes)). Likewise for a chunk-size line or a trailer line. Body bytes are handed to
// `on_body` as views into the input, as soon as they arrive. Bytes after the end of the
// message are not consumed (the next response on the connection). One byte at a time gives
// the same result as everything at once.
// Framing follows RFC 9112 §6.3 exactly: no body for HEAD, 1xx, 204 and 304; chunked when
// Transfer-Encoding ends in chunked (extensions skipped, trailers kept); Content-Length; else
// until the connection closes (then call Finish() at EOF).
// Strict: rejects anything that enables request smuggling or response desync — both
// Content-Length and Transfer-Encoding, conflicting or malformed Content-Length, chunked
// applied twice, Transfer-Encoding in HTTP/1.0, obs-fold, bare CR or LF, whitespace before the
// colon, invalid chunk sizes, missing CRLF after chunk data, and non-HTTP bytes.
//
// Threading: a parser is a value; not synchronized.
// Ownership: head() and the body views point into the caller's input (see head()); trailers
// are copied. The parser keeps no pointer into the input between calls.
// Errors: DATA_LOSS for a malformed response ("http: malformed status line: ..."),
// RESOURCE_EXHAUSTED when a limit is exceeded ("http: response header exceeds 64 KiB"),
// UNAVAILABLE from Finish() when the connection closed before the message ended. After an
// error the parser stays failed until Reset(). Which side of the head an error fell on:
// head_complete() (a valid head arrived) and received_any() (any byte arrived at all).
#ifndef CORIO_NET_HTTP_PARSER_H_
#define CORIO_NET_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corio::http {

struct ParserLimits {
  size_t max_head_bytes = 64 * 1024;  // status line + header fields + the empty line
  size_t max_headers = 128;
  size_t max_line_bytes = 16 * 1024;  // one status, header, chunk-size or trailer line
  int max_chunk_size_digits = 16;     // hex digits (16 = 64 bits)
  uint64_t max_body_bytes = UINT64_MAX;
  size_t max_trailer_bytes = 16 * 1024;
};

struct Header {
  absl::string_view name;
  absl::string_view value;  // leading and trailing whitespace removed
};

// Header fields in the order received, duplicates kept; lookups ignore ASCII case.
class Headers {
 public:
  size_t size() const { return fields_.size(); }
  const Header& operator[](size_t i) const { return fields_[i]; }
  std::vector<Header>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Header>::const_iterator end() const { return fields_.end(); }

  // The first field named `name`, if any.
  std::optional<absl::string_view> Get(absl::string_view name) const;
  std::vector<absl::string_view> GetAll(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Get(name).has_value(); }

 private:
  friend class ResponseParser;
  std::vector<Header> fields_;
};

struct ResponseHead {
  int version_minor = 1;  // HTTP/1.<version_minor>
  int status = 0;
  absl::string_view reason;
  Headers headers;
};

enum class BodyFraming { kNone, kContentLength, kChunked, kUntilClose };

class ResponseParser {
 public:
  ResponseParser() : ResponseParser(ParserLimits()) {}
  explicit ResponseParser(ParserLimits limits) : limits_(limits) {}

  // Prepares for the next response on the connection (`head_request`: it answers a HEAD).
  void Reset(bool head_request = false);

  // Consumes a prefix of `input` (see "Feeding" above) and returns its length.
  absl::StatusOr<size_t> Parse(absl::string_view input,
                               absl::FunctionRef<void(absl::string_view)> on_body) {
    // Fast path, inline: the middle of a Content-Length body (most calls on a big response).
    if (state_ == State::kBodyLength) {
      const size_t n = remaining_ < input.size() ? static_cast<size_t>(remaining_) : input.size();
      body_seen_ += n;
      if (body_seen_ > limits_.max_body_bytes) return BodyLimitExceeded();
      if (n > 0) on_body(input.substr(0, n));
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDone;
      if (n == input.size() || state_ == State::kDone) return n;
      return ParseSlow(input.substr(n), on_body, n);
    }
    return ParseSlow(input, on_body, 0);
  }
  // The connection reached EOF: completes a close-delimited body; an error if the message
  // was not complete.
  absl::Status Finish();

  // Whether the head (status line and header fields) arrived whole and valid, framing
  // included; it stays true if the body fails later. False after a failure in the head.
  bool head_complete() const { return head_complete_; }
  // Whether any byte of this response has been passed to Parse() since Reset(). False after
  // Finish() on a connection that closed before sending anything (the case in which a request
  // on a reused connection may be replayed on a fresh one).
  bool received_any() const { return received_any_; }
  bool done() const { return state_ == State::kDone; }
  // Valid once head_complete(): views into the input of the Parse call that completed the
  // head, so valid while those bytes are.
  const ResponseHead& head() const { return head_; }
  BodyFraming framing() const { return framing_; }
  // The Content-Length, when that frames the body.
  std::optional<uint64_t> content_length() const;
  // Whether the connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_; }
  // Transfer codings other than chunked (e.g. gzip), for the client to undo or refuse.
  bool has_other_transfer_codings() const { return other_codings_; }
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  uint64_t body_bytes() const { return body_seen_; }

 private:
  enum class State {
    kHead,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kBodyUntilClose,
    kDone,
    kFailed,
  };

  // Parses the head from where it stopped; returns the head's length once complete, 0 while
  // bytes are missing.
  absl::StatusOr<size_t> ParseHead(absl::string_view input);
  absl::Status ParseStatusLine(absl::string_view line);
  // Notes Content-Length, Transfer-Encoding and Connection as their lines go by.
  absl::Status NoteFramingField(absl::string_view name, absl::string_view value);
  absl::Status DecideFraming();
  absl::Status Fail(absl::Status s);
  // Everything but the fast path; `used` bytes were consumed before `input`.
  absl::StatusOr<size_t> ParseSlow(absl::string_view input,
                                   absl::FunctionRef<void(absl::string_view)> on_body, size_t used);
  absl::Status BodyLimitExceeded();
  // Consumes chunked framing from `in`; returns bytes consumed.
  absl::StatusOr<size_t> ParseChunked(absl::string_view in,
                                      absl::FunctionRef<void(absl::string_view)> on_body);
  absl::Status CountBody(size_t n);

  ParserLimits limits_;
  State state_ = State::kHead;
  bool head_request_ = false;
  bool received_any_ = false;
  bool head_complete_ = false;
  // Head parsing state: the offset of the next unparsed line, and fields as offsets (the
  // caller's buffer may move between calls; views are made once the head is complete).
  size_t head_pos_ = 0;
  struct FieldOffsets {
    uint32_t name, name_len, value, value_len;
  };
  std::vector<FieldOffsets> field_offsets_;
  size_t reason_off_ = 0, reason_len_ = 0;  // offsets too, until the head completes
  // Framing fields seen so far.
  std::optional<uint64_t> content_length_;
  int te_fields_ = 0;
  int te_chunked_ = 0;
  bool te_last_chunked_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  ResponseHead head_;
  BodyFraming framing_ = BodyFraming::kNone;
  bool keep_alive_ = false;
  bool other_codings_ = false;
  uint64_t remaining_ = 0;  // body bytes left (Content-Length), or in the current chunk
  uint64_t body_seen_ = 0;
  size_t trailer_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_PARSER_H_
