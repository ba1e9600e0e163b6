#include "net/http/testing/script_server.h"

#include <sys/socket.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/tls/tls_stream.h"
#include "tasks/sleep.h"
#include "tasks/task_group.h"

namespace corio::http::testing {

std::string RawRequest::Header(absl::string_view name) const {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

Reply Reply::Ok(std::string body, int status, std::string extra) {
  Reply r;
  r.bytes = absl::StrCat("HTTP/1.1 ", status, " ", status == 200 ? "OK" : "Status",
                         "\r\nContent-Length: ", body.size(), "\r\n", extra, "\r\n", body);
  return r;
}

absl::StatusOr<std::unique_ptr<ScriptServer>> ScriptServer::Start(Handler handler) {
  return Start(std::move(handler), nullptr);
}

absl::StatusOr<std::unique_ptr<ScriptServer>> ScriptServer::Start(
    Handler handler, std::shared_ptr<tls::TlsContext> server_ctx) {
  std::unique_ptr<ScriptServer> s(new ScriptServer());
  s->state_ = std::make_shared<State>();
  s->state_->handler = std::move(handler);
  s->state_->tls = std::move(server_ctx);
  absl::StatusOr<TcpListener> l = TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!l.ok()) return l.status();
  s->state_->listener = *std::move(l);
  s->address_ = s->state_->listener.local_address();
  s->acceptor_ = Spawn(AcceptLoop(s->state_));
  return s;
}

ScriptServer::~ScriptServer() {
  acceptor_.Cancel();
  acceptor_.Detach();
}

std::string ScriptServer::Url(absl::string_view path) const {
  return absl::StrCat(state_->tls ? "https" : "http", "://127.0.0.1:", address_.port(), path);
}

Task<void> ScriptServer::AcceptLoop(std::shared_ptr<State> state) {
  TaskGroup group;
  for (;;) {
    absl::StatusOr<TcpStream> conn = co_await state->listener.Accept();
    if (!conn.ok()) break;
    group.Spawn(Serve(state, *std::move(conn), state->connections++));
  }
  group.Cancel();
  (void)co_await group.Wait();
}

Task<void> ScriptServer::Serve(std::shared_ptr<State> state, TcpStream tcp, int index) {
  const int fd = tcp.fd();
  std::unique_ptr<ByteStream> stream = std::make_unique<TcpStream>(std::move(tcp));
  if (state->tls != nullptr) {
    absl::StatusOr<std::unique_ptr<tls::TlsStream>> t =
        co_await tls::TlsStream::Accept(state->tls, std::move(stream));
    if (!t.ok()) co_return;
    stream = *std::move(t);
  }
  ByteStream& conn = *stream;
  ++state->open;
  state->max_open = std::max(state->max_open, state->open);
  std::string buf;
  std::vector<char> chunk(16384);
  int on_conn = 0;
  for (;;) {
    // Read one request head (and its Content-Length body).
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(chunk));
      if (!n.ok() || *n == 0) {
        --state->open;
        co_return;
      }
      buf.append(chunk.data(), *n);
    }
    RawRequest req;
    req.head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    std::vector<std::string> first = absl::StrSplit(req.head.substr(0, req.head.find("\r\n")), ' ');
    if (first.size() >= 2) {
      req.method = first[0];
      req.target = first[1];
    }
    size_t length = 0;
    (void)absl::SimpleAtoi(req.Header("content-length"), &length);
    while (buf.size() < length) {
      absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(chunk));
      if (!n.ok() || *n == 0) {
        --state->open;
        co_return;
      }
      buf.append(chunk.data(), *n);
    }
    req.body = buf.substr(0, length);
    buf.erase(0, length);
    req.connection_index = index;
    req.index_on_connection = on_conn++;
    ++state->requests;
    state->log.push_back(req);
    Reply reply = state->handler(req);
    ++state->in_flight;
    state->max_in_flight = std::max(state->max_in_flight, state->in_flight);
    struct Done {
      State* s;
      ~Done() { --s->in_flight; }
    } done{state.get()};
    if (reply.delay > absl::ZeroDuration()) {
      absl::Status s = co_await Sleep(reply.delay);
      if (!s.ok()) break;
    }
    absl::Status w;
    if (reply.trickle > absl::ZeroDuration()) {
      for (char c : reply.bytes) {
        w = co_await conn.WriteAll(absl::string_view(&c, 1));
        if (!w.ok()) break;
        absl::Status s = co_await Sleep(reply.trickle);
        if (!s.ok()) {
          w = s;
          break;
        }
      }
    } else {
      w = co_await conn.WriteAll(reply.bytes);
    }
    if (!w.ok()) break;
    if (reply.after == Reply::After::kClose) break;
    if (reply.after == Reply::After::kReset) {
      const linger abort_on_close{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      break;
    }
    if (reply.after == Reply::After::kStall) {
      (void)co_await Sleep(absl::InfiniteDuration());
      break;
    }
  }
  --state->open;
}

}  // namespace corio::http::testing
