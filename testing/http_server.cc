#include "testing/http_server.h"

#include <arpa/inet.h>

#include <future>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/task_group.h"
#include "testing/http_server_internal.h"

namespace corio::testing {
namespace {

bool IsLoopback(const SocketAddress& a) {
  if (a.is_v4()) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(a.sockaddr_ptr());
    return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a.sockaddr_ptr());
  return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

absl::StatusOr<SocketAddress> BindAddress(const FakeHttpServer::Options& options) {
  absl::StatusOr<SocketAddress> addr = SocketAddress::FromIp(options.host, options.port);
  if (!addr.ok()) return addr.status();
  if (!IsLoopback(*addr)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FakeHttpServer: ", options.host, " is not a loopback address (127.0.0.0/8 or ::1)"));
  }
  return addr;
}

absl::Status Listen(FakeHttpServer::State& state) {
  absl::StatusOr<SocketAddress> addr = BindAddress(state.options);
  if (!addr.ok()) return addr.status();
  absl::StatusOr<TcpListener> l = TcpListener::Bind(*addr);
  if (!l.ok()) return l.status();
  state.listener = *std::move(l);
  state.address = state.listener.local_address();
  state.loop = EventLoop::Current();
  return absl::OkStatus();
}

// The background thread's main task: listen, report, serve until asked to stop.
Task<absl::Status> ServeInBackground(std::shared_ptr<FakeHttpServer::State> state,
                                     std::promise<absl::Status>* started) {
  absl::Status listening = Listen(*state);
  started->set_value(listening);
  if (!listening.ok()) co_return listening;
  JoinHandle<void> acceptor = Spawn(http_internal::AcceptLoop(state));
  (void)co_await state->stop.Wait();
  state->listener.Close();
  for (ByteStream* transport : state->transports) transport->Close();
  acceptor.Cancel();
  co_return co_await std::move(acceptor);
}

HttpResponse NotFound(const HttpRequest&) { return HttpResponse::Text(404, "not found\n"); }

std::shared_ptr<const HttpResponse> Prepared(HttpResponse r) {
  http_internal::EncodeBody(r);
  return std::make_shared<const HttpResponse>(std::move(r));
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::Start() { return Start(Options()); }

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::StartInBackground() {
  return StartInBackground(Options());
}

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::Start(Options options) {
  if (EventLoop::Current() == nullptr) {
    return absl::FailedPreconditionError(
        "FakeHttpServer::Start: no event loop runs on this thread (use "
        "StartInBackground)");
  }
  std::unique_ptr<FakeHttpServer> s(new FakeHttpServer());
  s->state_ = std::make_shared<State>();
  s->state_->options = std::move(options);
  absl::Status listening = Listen(*s->state_);
  if (!listening.ok()) return listening;
  s->address_ = s->state_->address;
  s->state_->acceptor = Spawn(http_internal::AcceptLoop(s->state_));
  return s;
}

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::StartInBackground(Options options) {
  std::unique_ptr<FakeHttpServer> s(new FakeHttpServer());
  s->state_ = std::make_shared<State>();
  s->state_->options = std::move(options);
  s->state_->background = true;
  std::promise<absl::Status> started;
  std::future<absl::Status> listening = started.get_future();
  s->thread_ = std::thread([state = s->state_, &started] {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    if (!loop.ok()) {
      started.set_value(loop.status());
      return;
    }
    // A failure to listen went to `started`; nothing else fails.
    (void)Run(**loop, ServeInBackground(state, &started));
    // Callbacks posted by Stop() may still be queued: they die with the loop, unrun.
    std::lock_guard<std::mutex> lock(state->stats_mu);
    state->loop = nullptr;
  });
  absl::Status status = listening.get();
  if (!status.ok()) {
    s->thread_.join();
    s->stopped_ = true;
    return status;
  }
  s->address_ = s->state_->address;
  return s;
}

FakeHttpServer::~FakeHttpServer() { Stop(); }

void FakeHttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!state_->background) {
    // Closes every socket now; cancels the accept loop, whose TaskGroup cancels the
    // connections (they end on the loop's next turns).
    state_->listener.Close();
    for (ByteStream* transport : state_->transports) transport->Close();
    state_->acceptor.Cancel();
    state_->acceptor.Detach();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(state_->stats_mu);
    if (state_->loop != nullptr) {
      state_->loop->CallSoonThreadSafe([state = state_] { state->stop.Set(); });
    }
  }
  thread_.join();
}

void FakeHttpServer::Route(std::string path, HttpResponse response) {
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->exact[std::move(path)] = http_internal::Route{Prepared(std::move(response)), {}, {}};
}

void FakeHttpServer::Route(std::string path, Handler handler) {
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->exact[std::move(path)] = http_internal::Route{nullptr, std::move(handler), {}};
}

void FakeHttpServer::RoutePrefix(std::string prefix, HttpResponse response) {
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->prefixes[std::move(prefix)] = http_internal::Route{Prepared(std::move(response)), {}, {}};
}

void FakeHttpServer::RoutePrefix(std::string prefix, Handler handler) {
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->prefixes[std::move(prefix)] = http_internal::Route{nullptr, std::move(handler), {}};
}

void FakeHttpServer::RouteSequence(std::string path, std::vector<HttpResponse> responses) {
  http_internal::Route route;
  for (HttpResponse& r : responses) route.sequence.push_back(Prepared(std::move(r)));
  if (route.sequence.empty()) route.handler = NotFound;
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->exact[std::move(path)] = std::move(route);
}

void FakeHttpServer::SetDefault(Handler handler) {
  std::lock_guard<std::mutex> lock(state_->routes_mu);
  state_->default_handler = std::move(handler);
}

std::string FakeHttpServer::authority() const { return address_.ToString(); }

std::string FakeHttpServer::url(absl::string_view path) const {
  return absl::StrCat(state_->options.tls != nullptr ? "https://" : "http://", authority(),
                      absl::StartsWith(path, "/") ? "" : "/", path);
}

FakeHttpServer::Stats FakeHttpServer::stats() const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  return state_->stats;
}

int64_t FakeHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  return state_->stats.requests;
}

int64_t FakeHttpServer::requests(absl::string_view path) const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  auto it = state_->stats.requests_by_path.find(path);
  return it == state_->stats.requests_by_path.end() ? 0 : it->second;
}

int64_t FakeHttpServer::max_in_flight_for_host(absl::string_view host) const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  auto it = state_->stats.max_in_flight_by_host.find(absl::AsciiStrToLower(host));
  return it == state_->stats.max_in_flight_by_host.end() ? 0 : it->second;
}

void FakeHttpServer::ResetStats() {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  Stats& s = state_->stats;
  s.connections_accepted = 0;
  s.tls_handshakes = 0;
  s.tls_sessions_resumed = 0;
  s.tls_handshake_failures = 0;
  s.requests = 0;
  s.requests_by_path.clear();
  s.max_in_flight = s.in_flight;
  for (auto it = s.in_flight_by_host.begin(); it != s.in_flight_by_host.end();) {
    if (it->second == 0) {
      it = s.in_flight_by_host.erase(it);
    } else {
      ++it;
    }
  }
  s.max_in_flight_by_host = s.in_flight_by_host;
  state_->log.clear();
}

std::vector<HttpRequest> FakeHttpServer::received_requests() const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  return std::vector<HttpRequest>(state_->log.begin(), state_->log.end());
}

bool FakeHttpServer::WaitUntil(absl::FunctionRef<bool(const Stats&)> done,
                               absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(state_->stats_mu);
  const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
  return state_->stats_changed.wait_until(lock, deadline, [&] { return done(state_->stats); });
}

std::shared_ptr<const HttpResponse> FakeHttpServer::State::Resolve(const HttpRequest& request) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(routes_mu);
    http_internal::Route* route = nullptr;
    if (auto it = exact.find(request.path); it != exact.end()) {
      route = &it->second;
    } else {
      size_t best = 0;
      for (auto& [prefix, r] : prefixes) {
        if (absl::StartsWith(request.path, prefix) && (route == nullptr || prefix.size() > best)) {
          route = &r;
          best = prefix.size();
        }
      }
    }
    if (route != nullptr && route->fixed != nullptr) return route->fixed;
    if (route != nullptr && !route->sequence.empty()) {
      const size_t i = std::min(route->next, route->sequence.size() - 1);
      ++route->next;
      return route->sequence[i];
    }
    handler = route != nullptr ? route->handler : default_handler;
  }
  if (!handler) handler = NotFound;
  HttpResponse r;
  try {
    r = handler(request);
  } catch (const std::exception& e) {
    r = HttpResponse::Text(500, absl::StrCat("handler threw: ", e.what(), "\n"));
  } catch (...) {
    r = HttpResponse::Text(500, "handler threw\n");
  }
  return Prepared(std::move(r));
}

int FakeHttpServer::State::OnAccepted() {
  int index;
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.connections_accepted;
    ++stats.connections_open;
    index = connections_ever++;
  }
  stats_changed.notify_all();
  return index;
}

void FakeHttpServer::State::OnTlsHandshake(bool ok, bool resumed) {
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++(ok ? stats.tls_handshakes : stats.tls_handshake_failures);
    if (resumed) ++stats.tls_sessions_resumed;
  }
  stats_changed.notify_all();
}

void FakeHttpServer::State::OnClosed() {
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    --stats.connections_open;
  }
  stats_changed.notify_all();
}

void FakeHttpServer::State::OnRequest(const HttpRequest& request, const std::string& host) {
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.requests;
    ++stats.requests_by_path[request.path];
    stats.max_in_flight = std::max(stats.max_in_flight, ++stats.in_flight);
    int64_t& for_host = stats.in_flight_by_host[host];
    int64_t& max_for_host = stats.max_in_flight_by_host[host];
    max_for_host = std::max(max_for_host, ++for_host);
    if (options.request_log_size > 0) {
      if (log.size() >= options.request_log_size) log.pop_front();
      log.push_back(request);
    }
  }
  stats_changed.notify_all();
}

void FakeHttpServer::State::OnAnswered(const std::string& host) {
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    --stats.in_flight;
    --stats.in_flight_by_host[host];
  }
  stats_changed.notify_all();
}

namespace http_internal {

Task<void> AcceptLoop(std::shared_ptr<FakeHttpServer::State> state) {
  TaskGroup connections;
  for (;;) {
    absl::StatusOr<TcpStream> conn = co_await state->listener.Accept();
    if (!conn.ok()) {
      // Out of fds: the connection waits in the backlog; try again once others closed.
      if (absl::IsResourceExhausted(conn.status())) {
        absl::Status slept = co_await Sleep(absl::Milliseconds(10));
        if (slept.ok()) continue;
      }
      break;  // cancelled, or the listener closed or failed
    }
    connections.Spawn(ServeConnection(state, *std::move(conn)));
  }
  state->listener.Close();
  connections.Cancel();
  (void)co_await connections.Wait();
}

}  // namespace http_internal
}  // namespace corio::testing
