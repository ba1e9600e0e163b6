// FakeHttpServer's connections: writing scripted responses, the connection's life.
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/tls/tls_stream.h"
#include "tasks/sleep.h"
#include "tasks/with_timeout.h"
#include "testing/http_server_internal.h"

namespace corio::testing::http_internal {
namespace {

using Fault = HttpResponse::Fault;
using Framing = HttpResponse::Framing;

// Responses up to this size go out in one write.
constexpr size_t kCoalesceBytes = 64 * 1024;
// How long a closing connection waits for the client to close its side, so that unread request
// bytes do not turn the close into a reset that could destroy the response.
constexpr absl::Duration kLingerTime = absl::Seconds(2);

bool WantsClose(const HttpRequest& req) {
  for (absl::string_view v : req.Headers("Connection")) {
    for (absl::string_view token : absl::StrSplit(v, ',')) {
      token = absl::StripAsciiWhitespace(token);
      if (absl::EqualsIgnoreCase(token, "close")) return true;
      if (absl::EqualsIgnoreCase(token, "keep-alive") && req.version == "HTTP/1.0") return false;
    }
  }
  return req.version == "HTTP/1.0";
}

bool BodylessStatus(int status) { return status < 200 || status == 204 || status == 304; }

void AppendStatusLine(std::string& out, int status, absl::string_view reason) {
  absl::StrAppend(&out, "HTTP/1.1 ", status, " ", reason.empty() ? ReasonPhrase(status) : reason,
                  "\r\n");
}

// The head, without the body.
void AppendHead(std::string& out, const HttpRequest& req, const HttpResponse& r, size_t body_bytes,
                bool announce_close) {
  AppendStatusLine(out, r.status, r.reason);
  for (const auto& [name, value] : r.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (r.auto_headers) {
    if (!BodylessStatus(r.status)) {
      if (r.framing == Framing::kContentLength && !HasHeader(r.headers, "Content-Length") &&
          !HasHeader(r.headers, "Transfer-Encoding")) {
        absl::StrAppend(&out, "Content-Length: ", body_bytes, "\r\n");
      } else if (r.framing == Framing::kChunked && !HasHeader(r.headers, "Transfer-Encoding")) {
        out += "Transfer-Encoding: chunked\r\n";
      }
    }
    if (!HasHeader(r.headers, "Connection")) {
      if (announce_close) {
        out += "Connection: close\r\n";
      } else if (req.version == "HTTP/1.0") {
        out += "Connection: keep-alive\r\n";
      }
    }
  }
  out += "\r\n";
}

// The body as it goes on the wire (chunk framing included).
void AppendChunkedBody(std::string& out, const HttpResponse& r) {
  absl::string_view body = r.body;
  auto chunk = [&out](absl::string_view data) {
    absl::StrAppend(&out, absl::Hex(data.size()), "\r\n", data, "\r\n");
  };
  for (size_t size : r.chunk_sizes) {
    if (body.empty()) break;
    if (size == 0) continue;
    chunk(body.substr(0, size));
    body.remove_prefix(std::min(size, body.size()));
  }
  if (!body.empty()) chunk(body);
  out += "0\r\n";
  for (const auto& [name, value] : r.trailers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  out += "\r\n";
}

// Sends bytes, all at once or trickled.
class Sender {
 public:
  Sender(Conn& c, const HttpResponse& r) : c_(c), r_(r) {}

  Task<absl::Status> Send(absl::string_view data) {
    if (r_.trickle_bytes == 0) {
      co_return co_await c_.stream->WriteAll(data);
    }
    while (!data.empty()) {
      if (sent_any_) {
        absl::Status slept = co_await Sleep(r_.trickle_interval);
        if (!slept.ok()) co_return slept;
      }
      sent_any_ = true;
      const size_t n = std::min(r_.trickle_bytes, data.size());
      absl::Status w = co_await c_.stream->WriteAll(data.substr(0, n));
      if (!w.ok()) co_return w;
      data.remove_prefix(n);
    }
    co_return absl::OkStatus();
  }

 private:
  Conn& c_;
  const HttpResponse& r_;
  bool sent_any_ = false;
};

// kClose ends TLS with close_notify; kCloseAbruptly (a scripted fault) only closes TCP.
enum class After { kKeepOpen, kClose, kCloseAbruptly, kReset, kStall };

After AfterFault(Fault f) {
  switch (f) {
    case Fault::kStallBeforeHead:
    case Fault::kStallAfterBodyBytes:
      return After::kStall;
    case Fault::kResetBeforeHead:
    case Fault::kResetAfterBodyBytes:
      return After::kReset;
    default:
      return After::kCloseAbruptly;
  }
}

// Waits until `gate` is open; false if cancelled first.
Task<bool> WaitForGate(HttpGate& gate) {
  auto opened = std::make_shared<Event>();
  EventLoop* loop = EventLoop::Current();
  std::optional<uint64_t> ticket =
      gate.WaitInternal([loop, opened] { loop->CallSoonThreadSafe([opened] { opened->Set(); }); });
  if (!ticket) co_return true;
  absl::Status s = co_await opened->Wait();
  gate.CancelWaitInternal(*ticket);
  co_return s.ok();
}

Task<void> SendEndlessHeaders(Sender& sender, const HttpResponse& r) {
  std::string status_line;
  AppendStatusLine(status_line, r.status, r.reason);
  absl::Status s = co_await sender.Send(status_line);
  std::string block;
  for (int i = 0; i < 64; ++i) {
    absl::StrAppend(&block, "X-Endless-", i, ": ", std::string(100, 'e'), "\r\n");
  }
  while (s.ok()) s = co_await sender.Send(block);
}

// Sends `r` for `req`. `closing`: the connection closes after it; `announce`: say so.
Task<After> Respond(Conn& c, const HttpRequest& req, const HttpResponse& r, bool closing,
                    bool announce) {
  if (r.delay_before_head > absl::ZeroDuration()) {
    absl::Status slept = co_await Sleep(r.delay_before_head);
    if (!slept.ok()) co_return After::kClose;
  }
  if (r.gate != nullptr) {
    const bool opened = co_await WaitForGate(*r.gate);
    if (!opened) co_return After::kClose;
  }
  if (r.fault == Fault::kStallBeforeHead || r.fault == Fault::kCloseBeforeHead ||
      r.fault == Fault::kResetBeforeHead) {
    co_return AfterFault(r.fault);
  }
  Sender sender(c, r);
  for (int status : r.interim) {
    std::string line;
    AppendStatusLine(line, status, "");
    line += "\r\n";
    absl::Status w = co_await sender.Send(line);
    if (!w.ok()) co_return After::kClose;
  }
  if (r.fault == Fault::kEndlessHeaders) {
    co_await SendEndlessHeaders(sender, r);
    co_return After::kClose;
  }
  const bool response_closes =
      r.close_connection ||
      (r.close_after_responses > 0 && req.index_on_connection + 1 >= r.close_after_responses);
  closing = closing || response_closes || (r.framing == Framing::kUntilClose && !r.raw);
  announce = announce || (response_closes && r.announce_close);
  const bool no_body = req.method == "HEAD" || BodylessStatus(r.status);
  std::string& head = c.out;
  head.clear();
  std::string chunked;
  absl::string_view body = r.body;
  if (r.raw) {
    body = *r.raw;
  } else {
    if (r.framing == Framing::kChunked) {
      AppendChunkedBody(chunked, r);
      body = chunked;
    }
    AppendHead(head, req, r, r.body.size(), closing && announce);
    if (no_body) body = {};
  }
  const bool cut = r.fault == Fault::kStallAfterBodyBytes ||
                   r.fault == Fault::kCloseAfterBodyBytes || r.fault == Fault::kResetAfterBodyBytes;
  if (cut) body = body.substr(0, std::min(body.size(), r.fault_after_bytes));
  if (r.delay_before_body == absl::ZeroDuration() && head.size() + body.size() <= kCoalesceBytes) {
    head.append(body.data(), body.size());
    body = {};
  }
  absl::Status w = co_await sender.Send(head);
  if (!w.ok()) co_return After::kClose;
  if (r.delay_before_body > absl::ZeroDuration()) {
    absl::Status slept = co_await Sleep(r.delay_before_body);
    if (!slept.ok()) co_return After::kClose;
  }
  if (!body.empty()) {
    w = co_await sender.Send(body);
    if (!w.ok()) co_return After::kClose;
  }
  if (cut) co_return AfterFault(r.fault);
  co_return closing ? After::kClose : After::kKeepOpen;
}

// Reads and drops what the client sends on `s` until it closes (or the server stops).
Task<absl::Status> Drain(Conn& c, ByteStream& s) {
  for (;;) {
    c.begin = c.end = 0;
    absl::StatusOr<size_t> n = co_await s.Read(absl::MakeSpan(c.buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
  }
}

// Half-closes (with close_notify over TLS unless `abruptly`), lets the client read to the end
// and close its side, then closes.
Task<void> CloseGracefully(Conn& c, bool abruptly = false) {
  ByteStream& s = abruptly ? *c.transport : *c.stream;
  absl::Status shut = co_await s.Shutdown();
  if (shut.ok()) {
    (void)co_await WithTimeout(kLingerTime, Drain(c, s));
  }
  c.transport->Close();  // first: a TlsStream then has nothing left to send
  c.stream->Close();
}

void Abort(Conn& c) {
  const linger abort_on_close{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  c.transport->Close();
  c.stream->Close();
}

Task<void> SendRejection(Conn& c, const ReadOutcome& o) {
  HttpResponse r = HttpResponse::Text(o.reject_status, absl::StrCat(o.reject_reason, "\n"));
  HttpRequest req;
  req.method = "GET";
  req.version = "HTTP/1.1";
  std::string& out = c.out;
  out.clear();
  AppendHead(out, req, r, r.body.size(), /*announce_close=*/true);
  out += r.body;
  (void)co_await c.stream->WriteAll(out);
}

// Keeps the in-flight counters right on every path (including cancellation).
class InFlight {
 public:
  InFlight(FakeHttpServer::State& state, const HttpRequest& req, std::string host)
      : state_(state), host_(std::move(host)) {
    state_.OnRequest(req, host_);
  }
  ~InFlight() { state_.OnAnswered(host_); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  FakeHttpServer::State& state_;
  const std::string host_;
};

// Lists a connection's TCP stream in State::transports while it is alive.
class ListedTransport {
 public:
  ListedTransport(FakeHttpServer::State& state, ByteStream* transport)
      : state_(state), transport_(transport) {
    state_.transports.insert(transport_);
  }
  ~ListedTransport() { state_.transports.erase(transport_); }
  ListedTransport(const ListedTransport&) = delete;
  ListedTransport& operator=(const ListedTransport&) = delete;

 private:
  FakeHttpServer::State& state_;
  ByteStream* const transport_;
};

class OpenConnection {
 public:
  explicit OpenConnection(FakeHttpServer::State& state)
      : state_(state), index_(state_.OnAccepted()) {}
  ~OpenConnection() { state_.OnClosed(); }
  int index() const { return index_; }
  OpenConnection(const OpenConnection&) = delete;
  OpenConnection& operator=(const OpenConnection&) = delete;

 private:
  FakeHttpServer::State& state_;
  const int index_;
};

}  // namespace

Task<void> ServeConnection(std::shared_ptr<FakeHttpServer::State> state, TcpStream tcp) {
  OpenConnection open(*state);
  Conn c;
  c.state = state;
  c.fd = tcp.fd();
  c.peer = tcp.peer().ToString();
  auto transport = std::make_unique<TcpStream>(std::move(tcp));
  c.transport = transport.get();
  const FakeHttpServer::Options& options = state->options;
  if (options.tls == nullptr) {
    c.stream = std::move(transport);
  } else {
    absl::StatusOr<std::unique_ptr<tls::TlsStream>> tls = co_await WithTimeout(
        options.tls_handshake_timeout, tls::TlsStream::Accept(options.tls, std::move(transport)));
    if (!tls.ok()) {  // the transport is closed
      if (!absl::IsCancelled(tls.status())) state->OnTlsHandshake(false, false);
      co_return;
    }
    state->OnTlsHandshake(true, (*tls)->session_reused());
    c.tls = true;
    c.tls_server_name = (*tls)->server_name();
    c.transport = &(*tls)->transport();
    c.stream = *std::move(tls);
  }
  ListedTransport listed(*state, c.transport);
  for (int served = 0;; ++served) {
    HttpRequest req;
    ReadOutcome o = co_await ReadRequest(c, req);
    if (o.kind == ReadOutcome::kEof || o.kind == ReadOutcome::kIoError) break;
    if (o.kind == ReadOutcome::kReject) {
      co_await SendRejection(c, o);
      co_await CloseGracefully(c);
      break;
    }
    req.connection_index = open.index();
    req.index_on_connection = served;
    req.peer = c.peer;
    req.tls = c.tls;
    req.tls_server_name = c.tls_server_name;
    After after;
    {
      InFlight in_flight(*state, req, absl::AsciiStrToLower(req.Header("Host").value_or("")));
      std::shared_ptr<const HttpResponse> response = state->Resolve(req);
      const bool last = options.max_responses_per_connection > 0 &&
                        served + 1 >= options.max_responses_per_connection;
      const bool told = !options.keep_alive || WantsClose(req);
      after = co_await Respond(c, req, *response, told || last,
                               told || (last && options.announce_close));
      // A stalled request stays in flight until the client gives up.
      if (after == After::kStall) {
        (void)co_await Drain(c, *c.stream);
      }
    }
    if (after == After::kKeepOpen) continue;
    if (after == After::kReset) {
      Abort(c);
    } else if (after == After::kClose || after == After::kCloseAbruptly) {
      co_await CloseGracefully(c, after == After::kCloseAbruptly);
    }
    break;
  }
}

}  // namespace corio::testing::http_internal
