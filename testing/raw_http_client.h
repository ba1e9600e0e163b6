// A bare-bones HTTP/1.1 client over a raw TcpStream (or TLS over one), for FakeHttpServer's own
// tests: it checks the server's bytes independently of the server's code (and of corio's HTTP
// client). Test-only and private to //testing.
#ifndef CORIO_TESTING_RAW_HTTP_CLIENT_H_
#define CORIO_TESTING_RAW_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "net/socket_address.h"
#include "net/tcp_stream.h"
#include "net/tls/tls_context.h"
#include "net/tls/tls_stream.h"
#include "tasks/task.h"

namespace corio::testing {

// One response as a bare-bones client sees it (parsed here, independently of the server).
struct RawHttpReply {
  int status = 0;
  std::string head;  // status line and fields, as received
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked
  std::string Header(absl::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
  bool Has(absl::string_view name) const {
    for (const auto& h : headers) {
      if (absl::EqualsIgnoreCase(h.first, name)) return true;
    }
    return false;
  }
};

// A raw TCP client speaking just enough HTTP/1.1 to check the server's bytes.
class RawHttpConn {
 public:
  static Task<absl::StatusOr<RawHttpConn>> Open(SocketAddress address) {
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(address));
    RawHttpConn conn;
    conn.conn_ = std::make_unique<TcpStream>(std::move(c));
    co_return conn;
  }
  // TLS with `ctx`, verifying the server as `host`.
  static Task<absl::StatusOr<RawHttpConn>> OpenTls(SocketAddress address,
                                                   std::shared_ptr<tls::TlsContext> ctx,
                                                   std::string host) {
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(address));
    auto transport = std::make_unique<TcpStream>(std::move(c));
    CORIO_CO_ASSIGN_OR_RETURN(
        std::unique_ptr<tls::TlsStream> tls,
        co_await tls::TlsStream::Connect(std::move(ctx), std::move(transport), std::move(host)));
    RawHttpConn conn;
    conn.conn_ = std::move(tls);
    co_return conn;
  }

  Task<absl::Status> Send(std::string data) { co_return co_await conn_->WriteAll(data); }

  // GET `path` with Host set, optionally more header lines ("Name: value\r\n...").
  Task<absl::Status> Get(std::string path, std::string extra = "", std::string method = "GET") {
    co_return co_await conn_->WriteAll(
        absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: test.local\r\n", extra, "\r\n"));
  }

  // Reads one response (a 1xx is a response of its own). `head_only`: a reply to HEAD.
  Task<absl::StatusOr<RawHttpReply>> ReadReply(bool head_only = false) {
    RawHttpReply r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      absl::Status more = co_await More();
      if (!more.ok()) co_return more;
    }
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    std::vector<absl::string_view> lines = absl::StrSplit(r.head, "\r\n", absl::SkipEmpty());
    std::vector<absl::string_view> status = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
    if (status.size() < 2 || !absl::SimpleAtoi(status[1], &r.status)) {
      co_return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      r.headers.emplace_back(std::string(lines[i].substr(0, colon)),
                             std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
    }
    if (head_only || r.status < 200 || r.status == 204 || r.status == 304) co_return r;
    if (absl::EqualsIgnoreCase(r.Header("Transfer-Encoding"), "chunked")) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          absl::Status more = co_await More();
          if (!more.ok()) co_return more;
        }
        size_t size = 0;
        if (!absl::SimpleHexAtoi(buf_.substr(0, eol), &size)) {
          co_return absl::DataLossError("bad chunk size");
        }
        while (buf_.size() < eol + 2 + size + 2) {
          absl::Status more = co_await More();
          if (!more.ok()) co_return more;
        }
        r.body += buf_.substr(eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);  // a last chunk also eats the final CRLF
        if (size == 0) break;
      }
      co_return r;
    }
    if (r.Has("Content-Length")) {
      size_t length = 0;
      if (!absl::SimpleAtoi(r.Header("Content-Length"), &length)) {
        co_return absl::DataLossError("bad Content-Length");
      }
      while (buf_.size() < length) {
        absl::Status more = co_await More();
        if (!more.ok()) co_return more;
      }
      r.body = buf_.substr(0, length);
      buf_.erase(0, length);
      co_return r;
    }
    absl::StatusOr<std::string> rest = co_await ReadToEof();
    if (!rest.ok()) co_return rest.status();
    r.body = *std::move(rest);
    co_return r;
  }

  // Everything until the server closes (what was buffered first).
  Task<absl::StatusOr<std::string>> ReadToEof() {
    for (;;) {
      absl::Status more = co_await More();
      if (absl::IsOutOfRange(more)) break;
      if (!more.ok()) co_return more;
    }
    co_return std::exchange(buf_, "");
  }

  // Reads until at least `n` bytes are buffered (or EOF/error); returns what is buffered.
  Task<absl::StatusOr<std::string>> ReadAtLeast(size_t n) {
    while (buf_.size() < n) {
      absl::Status more = co_await More();
      if (!more.ok()) co_return more;
    }
    co_return buf_;
  }

  ByteStream& stream() { return *conn_; }

 private:
  // Reads some more; OUT_OF_RANGE at EOF.
  Task<absl::Status> More() {
    char chunk[16384];
    absl::StatusOr<size_t> n = co_await conn_->Read(absl::MakeSpan(chunk));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OutOfRangeError("EOF");
    buf_.append(chunk, *n);
    co_return absl::OkStatus();
  }

  std::unique_ptr<ByteStream> conn_;
  std::string buf_;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_RAW_HTTP_CLIENT_H_
