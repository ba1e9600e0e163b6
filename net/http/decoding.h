// ContentDecoder: streaming gzip / deflate decoding of HTTP bodies
// (Content-Encoding), through zlib, in bounded memory: output goes into the
// caller's buffer, never grows a buffer of its own.
//
//   CORIO_ASSIGN_OR_RETURN(auto dec,
//   corio::http::ContentDecoder::Create(ContentCoding::kGzip)); size_t used =
//   0, made = 0; CORIO_RETURN_IF_ERROR(dec->Decode(input, absl::MakeSpan(out),
//   &used, &made));
//   ... input.remove_prefix(used); consume out[0, made); repeat; at the end of
//   the input: CORIO_RETURN_IF_ERROR(dec->Finish());   // DATA_LOSS if the
//   stream was cut short
//
// gzip: one or more members (RFC 1952; concatenated members are decoded in
// turn). deflate: the zlib container (RFC 1950) as the RFC says, or raw deflate
// (RFC 1951) as many servers send it, told apart by the first two bytes.
// Errors: DATA_LOSS for a corrupt or truncated stream ("http: corrupt gzip
// body: invalid distance too far back"), RESOURCE_EXHAUSTED when zlib cannot
// allocate. Threading: a value; not synchronized. Memory: zlib's 32 KiB window
// and ~7 KiB of state.
#ifndef CORIO_NET_HTTP_DECODING_H_
#define CORIO_NET_HTTP_DECODING_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace corio::http {

enum class ContentCoding { kIdentity, kGzip, kDeflate, kUnsupported };

// The coding of a Content-Encoding field value: identity (empty, "identity"),
// gzip
// ("gzip", "x-gzip"), deflate, or unsupported (anything else, or several
// codings).
ContentCoding ParseContentEncoding(absl::string_view value);

class ContentDecoder {
 public:
  static absl::StatusOr<std::unique_ptr<ContentDecoder>> Create(ContentCoding coding);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Decodes a prefix of `in` into `out`; *consumed and *produced say how much.
  // Makes progress whenever `in` is non-empty or output is pending, and `out`
  // is non-empty.
  absl::Status Decode(absl::string_view in, absl::Span<char> out, size_t* consumed,
                      size_t* produced);
  // The encoded input has ended: OK if the stream ended cleanly, DATA_LOSS if
  // it was cut short. Call Decode with empty input until it produces nothing
  // first (pending output).
  absl::Status Finish();
  // The stream (its last member) is complete.
  bool finished() const { return finished_; }
  uint64_t total_in() const { return total_in_; }
  uint64_t total_out() const { return total_out_; }

 private:
  struct State;
  explicit ContentDecoder(ContentCoding coding);
  absl::Status Init(int window_bits);

  ContentCoding coding_;
  std::unique_ptr<State> state_;
  bool initialized_ = false;
  bool finished_ = false;
  // deflate: the first byte, kept until the second tells zlib container from
  // raw deflate.
  char sniff_ = 0;
  bool has_sniff_ = false;
  uint64_t total_in_ = 0, total_out_ = 0;
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_DECODING_H_
