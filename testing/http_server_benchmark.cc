// FakeHttpServer's throughput, so it is not what limits the HTTP client's end-to-end tests:
// keep-alive GETs of a 1 KiB page over C connections, the server on its own thread, the client
// on the benchmark's. The anchor, measured in the same run with the same client, is the least
// an HTTP server on corio can do: find the end of the head, write fixed bytes.
//
//   tools/bazel run -c opt //testing:http_server_benchmark
#include <time.h>

#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "tasks/event.h"
#include "tasks/gather.h"
#include "tasks/run.h"
#include "tasks/spawn.h"
#include "tasks/task_group.h"
#include "testing/http_server.h"

namespace corio::testing {
namespace {

constexpr int kRequestsPerConnection = 100;

const std::string& Body() {
  static const std::string* body = new std::string(1024, 'x');
  return *body;
}

// What FakeHttpServer sends for HttpResponse::Text(200, Body()).
const std::string& ExpectedResponse() {
  static const std::string* r = new std::string(absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1024\r\n\r\n",
      Body()));
  return *r;
}

constexpr absl::string_view kRequest =
    "GET /1k HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: corio-bench\r\nAccept: */*\r\n\r\n";

// The anchor: reads up to the end of each head, answers with the same fixed bytes.
Task<void> MinimalConnection(TcpStream conn) {
  std::vector<char> buf(16384);
  size_t have = 0;
  for (;;) {
    absl::StatusOr<size_t> n =
        co_await conn.Read(absl::MakeSpan(buf.data() + have, buf.size() - have));
    if (!n.ok() || *n == 0) co_return;
    have += *n;
    const char* p = buf.data();
    size_t left = have;
    for (;;) {
      const void* end = memmem(p, left, "\r\n\r\n", 4);
      if (end == nullptr) break;
      const size_t used = static_cast<const char*>(end) + 4 - p;
      absl::Status w = co_await conn.WriteAll(ExpectedResponse());
      if (!w.ok()) co_return;
      p += used;
      left -= used;
    }
    std::memmove(buf.data(), p, left);
    have = left;
  }
}

class MinimalServer {
 public:
  MinimalServer() {
    std::promise<SocketAddress> bound;
    std::future<SocketAddress> address = bound.get_future();
    thread_ = std::thread([this, &bound] {
      auto loop = EventLoop::Create().value();
      loop_ = loop.get();
      (void)Run(*loop, Serve(&bound));
    });
    address_ = address.get();
  }
  ~MinimalServer() {
    loop_->CallSoonThreadSafe([this] { stop_.Set(); });
    thread_.join();
  }
  const SocketAddress& address() const { return address_; }

 private:
  static Task<void> AcceptLoop(TcpListener* listener) {
    TaskGroup connections;
    for (;;) {
      absl::StatusOr<TcpStream> conn = co_await listener->Accept();
      if (!conn.ok()) break;
      connections.Spawn(MinimalConnection(*std::move(conn)));
    }
    connections.Cancel();
    (void)co_await connections.Wait();
  }
  Task<void> Serve(std::promise<SocketAddress>* bound) {
    TcpListener listener = TcpListener::Bind(SocketAddress::Loopback4(0)).value();
    bound->set_value(listener.local_address());
    JoinHandle<void> acceptor = Spawn(AcceptLoop(&listener));
    (void)co_await stop_.Wait();
    acceptor.Cancel();
    (void)co_await std::move(acceptor);
  }

  std::thread thread_;
  EventLoop* loop_ = nullptr;
  Event stop_;
  SocketAddress address_;
};

Task<absl::Status> ClientConnection(SocketAddress address, int requests) {
  absl::StatusOr<TcpStream> conn = co_await TcpStream::Connect(address);
  if (!conn.ok()) co_return conn.status();
  std::string response(ExpectedResponse().size(), '\0');
  for (int i = 0; i < requests; ++i) {
    absl::Status w = co_await conn->WriteAll(kRequest);
    if (!w.ok()) co_return w;
    absl::Status r = co_await conn->ReadExactly(absl::MakeSpan(response));
    if (!r.ok()) co_return r;
    if (i == 0 && response != ExpectedResponse()) {
      co_return absl::InternalError(absl::StrCat("unexpected response: ", response.substr(0, 200)));
    }
  }
  co_return absl::OkStatus();
}

Task<absl::Status> ClientRound(SocketAddress address, int connections) {
  std::vector<Task<absl::Status>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(ClientConnection(address, kRequestsPerConnection));
  }
  absl::StatusOr<std::vector<std::monostate>> done = co_await Gather(std::move(clients));
  co_return done.status();
}

double CpuSeconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Reports requests/s and the server's CPU time per request: the process's CPU time minus this
// (the client's) thread's, which holds on a loaded machine where wall time does not.
void RunClient(benchmark::State& state, const SocketAddress& address) {
  const int connections = static_cast<int>(state.range(0));
  auto loop = EventLoop::Create().value();
  const double process_start = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double client_start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
  for (auto _ : state) {
    absl::Status s = Run(*loop, ClientRound(address, connections));
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  const double client = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - client_start;
  const double server = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_start - client;
  const int64_t requests = state.iterations() * connections * kRequestsPerConnection;
  state.SetItemsProcessed(requests);
  state.counters["server_us_per_req"] = server * 1e6 / static_cast<double>(requests);
  state.counters["client_us_per_req"] = client * 1e6 / static_cast<double>(requests);
}

void BM_FakeHttpServer(benchmark::State& state) {
  FakeHttpServer::Options options;
  options.request_log_size = 0;
  auto server = FakeHttpServer::StartInBackground(options).value();
  server->Route("/1k", HttpResponse::Text(200, Body()));
  RunClient(state, server->address());
}
BENCHMARK(BM_FakeHttpServer)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();

// The same with the default request log (the last 256 requests kept).
void BM_FakeHttpServerWithLog(benchmark::State& state) {
  auto server = FakeHttpServer::StartInBackground().value();
  server->Route("/1k", HttpResponse::Text(200, Body()));
  RunClient(state, server->address());
}
BENCHMARK(BM_FakeHttpServerWithLog)->Arg(64)->UseRealTime();

void BM_MinimalResponderAnchor(benchmark::State& state) {
  MinimalServer server;
  RunClient(state, server.address());
}
BENCHMARK(BM_MinimalResponderAnchor)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace corio::testing
