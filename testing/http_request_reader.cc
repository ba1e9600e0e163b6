// FakeHttpServer's request reader: request line, header fields, Content-Length and chunked
// bodies, from a connection's buffer.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "testing/http_server_internal.h"

namespace corio::testing::http_internal {

bool IsTokenChar(unsigned char c) {
  return absl::ascii_isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

Task<absl::StatusOr<size_t>> Conn::Fill(absl::Time deadline) {
  if (begin == end) begin = end = 0;
  if (buf.size() - end < kReadChunk / 4) {
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (buf.size() - end < kReadChunk / 4) buf.resize(std::max(buf.size() * 2, end + kReadChunk));
  }
  const absl::Span<char> room = absl::MakeSpan(buf.data() + end, buf.size() - end);
  absl::StatusOr<size_t> n;
  if (deadline == absl::InfiniteFuture()) {
    n = co_await stream->Read(room);
  } else {
    n = co_await stream->ReadBefore(room, deadline);
  }
  if (n.ok()) end += *n;
  co_return n;
}

namespace {

constexpr size_t kMaxChunkLine = 4096;

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

// The end of the head (just past its empty line) in `data`, or npos. Tolerates bare LF.
size_t FindHeadEnd(absl::string_view data, size_t from) {
  for (size_t i = data.find('\n', from); i != absl::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return absl::string_view::npos;
}

absl::string_view StripCr(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Parses the request line and header fields of `head` (without the empty line).
ReadOutcome ParseHead(absl::string_view head, HttpRequest& req) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
  if (lines.empty()) return ReadOutcome::Reject(400, "empty request");
  std::vector<absl::string_view> parts = absl::StrSplit(StripCr(lines[0]), ' ');
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty()) {
    return ReadOutcome::Reject(400, "malformed request line");
  }
  if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") {
    return ReadOutcome::Reject(absl::StartsWith(parts[2], "HTTP/") ? 505 : 400,
                               "unsupported protocol version");
  }
  req.method = std::string(parts[0]);
  req.target = std::string(parts[1]);
  req.version = std::string(parts[2]);
  absl::string_view target = req.target;
  for (absl::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(target, scheme)) {  // absolute-form: routed by its path
      target.remove_prefix(scheme.size());
      const size_t slash = target.find_first_of("/?");
      target = slash == absl::string_view::npos ? "/" : target.substr(slash);
    }
  }
  const size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (req.path.empty()) req.path = "/";
  req.query = q == absl::string_view::npos ? "" : std::string(target.substr(q + 1));
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = StripCr(lines[i]);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
      return ReadOutcome::Reject(400, "malformed header field");
    }
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return ReadOutcome{};
}

// Takes up to `want` bytes of the body from the buffer, reading more as needed.
Task<ReadOutcome> ReadBodyBytes(Conn& c, size_t want, std::string& body) {
  while (want > 0) {
    if (c.begin == c.end) {
      absl::StatusOr<size_t> n = co_await c.Fill();
      if (!n.ok() || *n == 0) co_return ReadOutcome{ReadOutcome::kIoError};
    }
    const size_t take = std::min(want, c.end - c.begin);
    body.append(c.buf.data() + c.begin, take);
    c.begin += take;
    want -= take;
  }
  co_return ReadOutcome{};
}

// One line (without its line end) of a chunked body.
Task<ReadOutcome> ReadLine(Conn& c, std::string& line) {
  size_t from = 0;
  for (;;) {
    const size_t nl = c.pending().find('\n', from);
    if (nl != absl::string_view::npos) {
      const absl::string_view text = StripCr(c.pending().substr(0, nl));
      line.assign(text.data(), text.size());
      c.begin += nl + 1;
      co_return ReadOutcome{};
    }
    from = c.end - c.begin;
    if (from > kMaxChunkLine) co_return ReadOutcome::Reject(400, "chunk line too long");
    absl::StatusOr<size_t> n = co_await c.Fill();
    if (!n.ok() || *n == 0) co_return ReadOutcome{ReadOutcome::kIoError};
  }
}

Task<ReadOutcome> ReadChunkedBody(Conn& c, size_t limit, std::string& body) {
  std::string line;
  for (;;) {
    ReadOutcome o = co_await ReadLine(c, line);
    if (o.kind != ReadOutcome::kRequest) co_return o;
    const absl::string_view size_text =
        absl::StripAsciiWhitespace(absl::string_view(line).substr(0, line.find(';')));
    uint64_t size = 0;
    if (size_text.empty() || size_text.size() > 15 || !absl::SimpleHexAtoi(size_text, &size)) {
      co_return ReadOutcome::Reject(400, "malformed chunk size");
    }
    if (size == 0) break;
    if (body.size() + size > limit) co_return ReadOutcome::Reject(413, "request body too large");
    o = co_await ReadBodyBytes(c, size, body);
    if (o.kind != ReadOutcome::kRequest) co_return o;
    o = co_await ReadLine(c, line);
    if (o.kind != ReadOutcome::kRequest) co_return o;
    if (!line.empty()) co_return ReadOutcome::Reject(400, "chunk data longer than its size");
  }
  // Trailer fields, up to the empty line (read and dropped).
  for (size_t total = 0;;) {
    ReadOutcome o = co_await ReadLine(c, line);
    if (o.kind != ReadOutcome::kRequest) co_return o;
    if (line.empty()) break;
    total += line.size();
    if (total > kMaxChunkLine * 4) co_return ReadOutcome::Reject(431, "trailers too large");
  }
  co_return ReadOutcome{};
}

}  // namespace

Task<ReadOutcome> ReadRequest(Conn& c, HttpRequest& req) {
  const FakeHttpServer::Options& options = c.state->options;
  // Until a request's first byte: idle, which the idle timeout bounds.
  const absl::Time idle_deadline = options.idle_timeout == absl::InfiniteDuration()
                                       ? absl::InfiniteFuture()
                                       : EventLoop::Current()->Now() + options.idle_timeout;
  size_t head_end = absl::string_view::npos;
  size_t searched = 0;
  for (;;) {
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    while (c.begin < c.end && (c.buf[c.begin] == '\r' || c.buf[c.begin] == '\n')) {
      ++c.begin;
      searched = 0;
    }
    // Not the start of a request line (a TLS ClientHello, say): say so now, not after 64 KiB.
    if (c.begin < c.end && !IsTokenChar(static_cast<unsigned char>(c.buf[c.begin]))) {
      co_return ReadOutcome::Reject(400, "not an HTTP/1.1 request");
    }
    head_end = FindHeadEnd(c.pending(), searched > 2 ? searched - 2 : 0);
    if (head_end != absl::string_view::npos) break;
    searched = c.end - c.begin;
    if (searched > options.max_request_head_bytes) {
      co_return ReadOutcome::Reject(431, "request head too large");
    }
    absl::StatusOr<size_t> n =
        co_await c.Fill(c.begin == c.end ? idle_deadline : absl::InfiniteFuture());
    if (!n.ok()) co_return ReadOutcome{ReadOutcome::kIoError};  // the idle timeout too
    if (*n == 0)
      co_return ReadOutcome{c.begin == c.end ? ReadOutcome::kEof : ReadOutcome::kIoError};
  }
  if (head_end > options.max_request_head_bytes) {
    co_return ReadOutcome::Reject(431, "request head too large");
  }
  ReadOutcome parsed = ParseHead(c.pending().substr(0, head_end), req);
  c.begin += head_end;
  if (parsed.kind != ReadOutcome::kRequest) co_return parsed;

  std::vector<absl::string_view> te = req.Headers("Transfer-Encoding");
  std::vector<absl::string_view> cl = req.Headers("Content-Length");
  if (!te.empty() && !cl.empty()) {
    co_return ReadOutcome::Reject(400, "both Transfer-Encoding and Content-Length");
  }
  uint64_t length = 0;
  if (!te.empty()) {
    absl::string_view last = absl::StripAsciiWhitespace(te.back());
    last = last.substr(last.rfind(',') == absl::string_view::npos ? 0 : last.rfind(',') + 1);
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(last), "chunked")) {
      co_return ReadOutcome::Reject(400, "Transfer-Encoding without chunked last");
    }
    req.chunked = true;
  } else if (!cl.empty()) {
    for (size_t i = 0; i < cl.size(); ++i) {
      absl::string_view v = cl[i];
      uint64_t n = 0;
      if (v.empty() || !std::all_of(v.begin(), v.end(), absl::ascii_isdigit) || v.size() > 18 ||
          !absl::SimpleAtoi(v, &n) || (i > 0 && n != length)) {
        co_return ReadOutcome::Reject(400, "malformed Content-Length");
      }
      length = n;
    }
    if (length > options.max_request_body_bytes) {
      co_return ReadOutcome::Reject(413, "request body too large");
    }
  }
  const bool has_body = req.chunked || length > 0;
  std::optional<absl::string_view> expect = req.Header("Expect");
  if (has_body && expect && absl::EqualsIgnoreCase(*expect, "100-continue") &&
      req.version == "HTTP/1.1" && c.begin == c.end) {
    absl::Status w = co_await c.stream->WriteAll("HTTP/1.1 100 Continue\r\n\r\n");
    if (!w.ok()) co_return ReadOutcome{ReadOutcome::kIoError};
  }
  if (req.chunked) {
    co_return co_await ReadChunkedBody(c, options.max_request_body_bytes, req.body);
  }
  req.body.reserve(length);
  co_return co_await ReadBodyBytes(c, length, req.body);
}

}  // namespace corio::testing::http_internal
