// TLS over loopback, client and server on one loop (one core), against plain TCP measured in
// the same run:
//   bazel run -c opt //net/tls:tls_benchmark
// Handshakes: a new connection per iteration (TCP connect, TLS handshake, one byte from the
// server, close): BM_TcpConnect is the anchor, BM_TlsHandshake/full and /resumed the cost of
// a full handshake and of one resuming a session (TLS 1.3 tickets; TLS 1.2 with /tls12).
// Bulk: one connection, 1 MiB written per iteration while the peer reads: BM_TcpBulk is the
// anchor, BM_TlsBulk the same through TLS (bytes_per_second is plaintext).
// Client alone against an outside server: BM_TlsClientOnly connects to
// $CORIO_TLS_ANCHOR_SERVER (trusting $CORIO_TLS_ANCHOR_CA) and reports the client's user CPU
// per full handshake, the figure `openssl s_time -new` reports for OpenSSL's own client
// against the same server: net/tls/run_tls_anchor.sh runs both.
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "net/tls/tls_context.h"
#include "net/tls/tls_stream.h"
#include "tasks/run.h"
#include "tasks/spawn.h"
#include "tasks/task_group.h"
#include "testing/tls_certs.h"

namespace corio::tls {
namespace {

const testing::TlsCerts& Certs() {
  static const testing::TlsCerts certs = testing::TlsCerts::Create().value();
  return certs;
}

std::shared_ptr<TlsContext> ServerContext(TlsVersion version) {
  ServerOptions options;
  options.cert_pem = Certs().server().cert_pem;
  options.key_pem = Certs().server().key_pem;
  options.min_version = options.max_version = version;
  return TlsContext::CreateServer(options).value();
}

std::shared_ptr<TlsContext> ClientContext(bool resumption) {
  ClientOptions options;
  options.ca_pem = Certs().ca_pem();
  options.session_resumption = resumption;
  return TlsContext::CreateClient(options).value();
}

// One server connection: the handshake (if TLS), one byte, then wait for the client to go.
Task<void> ServeOne(std::shared_ptr<TlsContext> ctx, TcpStream tcp) {
  std::unique_ptr<ByteStream> conn = std::make_unique<TcpStream>(std::move(tcp));
  if (ctx != nullptr) {
    absl::StatusOr<std::unique_ptr<TlsStream>> tls =
        co_await TlsStream::Accept(std::move(ctx), std::move(conn));
    if (!tls.ok()) co_return;
    conn = *std::move(tls);
  }
  absl::Status w = co_await conn->WriteAll("x");
  if (!w.ok()) co_return;
  char buf[64];
  absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(buf));
  (void)n;
}

Task<void> AcceptLoop(TcpListener* listener, std::shared_ptr<TlsContext> ctx) {
  TaskGroup group;
  for (;;) {
    absl::StatusOr<TcpStream> tcp = co_await listener->Accept();
    if (!tcp.ok()) break;
    group.Spawn(ServeOne(ctx, *std::move(tcp)));
  }
  (void)co_await group.Wait();
}

// client_ctx == nullptr: plain TCP.
Task<absl::Status> Connections(benchmark::State* state, std::shared_ptr<TlsContext> server_ctx,
                               std::shared_ptr<TlsContext> client_ctx, bool expect_reused) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  JoinHandle<void> server = Spawn(AcceptLoop(&*listener, server_ctx));
  int64_t reused = 0;
  absl::Status result;
  for (auto _ : *state) {
    absl::StatusOr<TcpStream> tcp = co_await TcpStream::Connect(listener->local_address());
    if (!tcp.ok()) {
      result = tcp.status();
      break;
    }
    std::unique_ptr<ByteStream> conn = std::make_unique<TcpStream>(*std::move(tcp));
    if (client_ctx != nullptr) {
      absl::StatusOr<std::unique_ptr<TlsStream>> tls =
          co_await TlsStream::Connect(client_ctx, std::move(conn), "localhost");
      if (!tls.ok()) {
        result = tls.status();
        break;
      }
      reused += (*tls)->session_reused() ? 1 : 0;
      conn = *std::move(tls);
    }
    char byte;
    absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(&byte, 1));
    if (!n.ok()) {
      result = n.status();
      break;
    }
  }
  state->counters["handshakes_per_s"] =
      benchmark::Counter(static_cast<double>(state->iterations()), benchmark::Counter::kIsRate);
  state->counters["resumed_pct"] = 100.0 * static_cast<double>(reused) /
                                   static_cast<double>(std::max<int64_t>(1, state->iterations()));
  if (expect_reused && state->iterations() > 2 && reused < state->iterations() - 1) {
    result = absl::InternalError("sessions were not resumed");
  }
  listener->Close();
  server.Cancel();
  (void)co_await std::move(server);
  co_return result;
}

void Report(benchmark::State& state, const absl::Status& s) {
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
}

void BM_TcpConnect(benchmark::State& state) {
  Report(state, Run(Connections(&state, nullptr, nullptr, false)));
}
BENCHMARK(BM_TcpConnect)->UseRealTime();

// range(0): 0 full, 1 resumed; range(1): 13 or 12 (TLS version).
void BM_TlsHandshake(benchmark::State& state) {
  const bool resumed = state.range(0) == 1;
  const TlsVersion version = state.range(1) == 12 ? TlsVersion::kTls12 : TlsVersion::kTls13;
  state.SetLabel(absl::StrCat(resumed ? "resumed" : "full", " TLS 1.", state.range(1) - 10));
  Report(state, Run(Connections(&state, ServerContext(version), ClientContext(resumed), resumed)));
}
BENCHMARK(BM_TlsHandshake)
    ->ArgNames({"resumed", "version"})
    ->Args({0, 13})
    ->Args({1, 13})
    ->Args({0, 12})
    ->Args({1, 12})
    ->UseRealTime();

Task<absl::Status> Drain(ByteStream* conn) {
  std::vector<char> buf(256 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
  }
}

Task<absl::Status> Bulk(benchmark::State* state, bool tls) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<TcpStream> client_tcp = co_await TcpStream::Connect(listener->local_address());
  if (!client_tcp.ok()) co_return client_tcp.status();
  absl::StatusOr<TcpStream> server_tcp = co_await listener->Accept();
  if (!server_tcp.ok()) co_return server_tcp.status();
  std::unique_ptr<ByteStream> client = std::make_unique<TcpStream>(*std::move(client_tcp));
  std::unique_ptr<ByteStream> server = std::make_unique<TcpStream>(*std::move(server_tcp));
  if (tls) {
    JoinHandle<absl::StatusOr<std::unique_ptr<TlsStream>>> accept =
        Spawn(TlsStream::Accept(ServerContext(TlsVersion::kTls13), std::move(server)));
    absl::StatusOr<std::unique_ptr<TlsStream>> c =
        co_await TlsStream::Connect(ClientContext(false), std::move(client), "localhost");
    absl::StatusOr<std::unique_ptr<TlsStream>> s = co_await std::move(accept);
    if (!c.ok()) co_return c.status();
    if (!s.ok()) co_return s.status();
    state->SetLabel((*c)->cipher());
    client = *std::move(c);
    server = *std::move(s);
  }
  JoinHandle<absl::Status> reader = Spawn(Drain(server.get()));
  const std::string chunk(1 << 20, 'b');
  absl::Status result;
  for (auto _ : *state) {
    result = co_await client->WriteAll(chunk);
    if (!result.ok()) break;
  }
  state->SetBytesProcessed(state->iterations() * static_cast<int64_t>(chunk.size()));
  absl::Status shut = co_await client->Shutdown();
  absl::Status drained = co_await std::move(reader);
  if (result.ok()) result = shut;
  if (result.ok()) result = drained;
  co_return result;
}

double UserCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
}

Task<absl::Status> ClientOnly(benchmark::State* state, SocketAddress server,
                              std::shared_ptr<TlsContext> ctx) {
  const double user0 = UserCpuSeconds();
  absl::Status result;
  for (auto _ : *state) {
    absl::StatusOr<TcpStream> tcp = co_await TcpStream::Connect(server);
    if (!tcp.ok()) {
      result = tcp.status();
      break;
    }
    absl::StatusOr<std::unique_ptr<TlsStream>> tls =
        co_await TlsStream::Connect(ctx, std::make_unique<TcpStream>(*std::move(tcp)), "localhost");
    if (!tls.ok()) {
      result = tls.status();
      break;
    }
  }
  const double user = UserCpuSeconds() - user0;
  state->counters["user_us_per_conn"] =
      1e6 * user / static_cast<double>(std::max<int64_t>(1, state->iterations()));
  state->counters["conns_per_user_s"] =
      user > 0 ? static_cast<double>(state->iterations()) / user : 0;
  co_return result;
}

void BM_TlsClientOnly(benchmark::State& state) {
  const char* server = getenv("CORIO_TLS_ANCHOR_SERVER");
  const char* ca = getenv("CORIO_TLS_ANCHOR_CA");
  if (server == nullptr || ca == nullptr) {
    state.SkipWithError("set CORIO_TLS_ANCHOR_SERVER and CORIO_TLS_ANCHOR_CA (run_tls_anchor.sh)");
    for (auto _ : state) {
    }
    return;
  }
  absl::StatusOr<SocketAddress> addr = SocketAddress::Parse(server);
  if (!addr.ok()) {
    state.SkipWithError(addr.status().ToString().c_str());
    for (auto _ : state) {
    }
    return;
  }
  ClientOptions options;
  options.ca_file = ca;
  options.session_resumption = false;
  Report(state, Run(ClientOnly(&state, *addr, TlsContext::CreateClient(options).value())));
}
BENCHMARK(BM_TlsClientOnly)->UseRealTime();

void BM_TcpBulk(benchmark::State& state) { Report(state, Run(Bulk(&state, false))); }
BENCHMARK(BM_TcpBulk)->UseRealTime();

void BM_TlsBulk(benchmark::State& state) { Report(state, Run(Bulk(&state, true))); }
BENCHMARK(BM_TlsBulk)->UseRealTime();

}  // namespace
}  // namespace corio::tls
