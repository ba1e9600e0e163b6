// Outside-in contract checks of corio::http::Client (net/http/client.h, request.h, response.h),
// written from the public headers alone: the error-code table, streaming, RaiseForStatus, the
// pool (reuse, dirty connections never pooled, replay after a stale keep-alive connection),
// cancellation, limits, header maps, default headers, and a Response outliving its Client.
// Every server is a FakeHttpServer on the test's loop, on virtual time.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "net/dns/resolver.h"
#include "net/http/client.h"
#include "net/http/header_map.h"
#include "net/http/request.h"
#include "net/http/response.h"
#include "net/http/shared_limits.h"
#include "net/tls/tls_context.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/task.h"
#include "testing/dns_server.h"
#include "testing/fd_leak_check.h"
#include "testing/http_server.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tcp_blackhole.h"
#include "testing/tcp_server.h"
#include "testing/tls_certs.h"

namespace corio::http {
namespace {

using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpGate;
using ::corio::testing::HttpRequest;
using ::corio::testing::HttpResponse;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Fault = HttpResponse::Fault;
using Encoding = HttpResponse::Encoding;

class ClientContractTest : public corio::testing::FdLeakCheck {};

std::unique_ptr<FakeHttpServer> StartServer(FakeHttpServer::Options options = {}) {
  absl::StatusOr<std::unique_ptr<FakeHttpServer>> s = FakeHttpServer::Start(std::move(options));
  CORIO_CHECK_MSG(s.ok(), "FakeHttpServer::Start");
  return std::move(*s);
}

Task<absl::StatusOr<Response>> SendMode(Client& client, std::string method, std::string url,
                                        BodyMode mode, std::string body = "") {
  Request req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.body = std::move(body);
  req.body_mode = mode;
  co_return co_await client.Send(std::move(req));
}

// Waits (on virtual time) until `pred` holds, at most `limit` loop turns of 1 ms.
template <typename Pred>
Task<bool> WaitFor(Pred pred, int limit = 10000) {
  for (int i = 0; i < limit; ++i) {
    if (pred()) co_return true;
    absl::Status slept = co_await Sleep(absl::Milliseconds(1));
    if (!slept.ok()) co_return false;
  }
  co_return pred();
}

// ---- The error table of client.h ----

Task<void> InvalidArgumentCases() {
  auto server = StartServer();
  server->Route("/ok", HttpResponse::Text(200, "ok"));
  Client client;
  for (const std::string url :
       {"ftp://x/", "http://", "not a url", "http://[::1", "htp://x", "http://127.0.0.1:99999/"}) {
    absl::StatusOr<Response> r = co_await client.Get(url);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(url))) << url;
  }
  {
    Request req;
    req.method = "GE T";
    req.url = server->url("/ok");
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    Request req;
    req.url = server->url("/ok");
    req.headers = {{"X-Evil", "a\r\nInjected: yes"}};
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    Request req;
    req.url = server->url("/ok");
    req.headers = {{"Bad Name", "v"}};
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    Request req;
    req.url = server->url("/ok");
    req.headers = {{"X-Nul", std::string("a\0b", 3)}};
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(server->requests(), 0);
}

TEST_F(ClientContractTest, InvalidArgumentForMalformedUrlsMethodsAndHeaders) {
  CORIO_EXPECT_OK(RunTask(InvalidArgumentCases()));
}

Task<void> UnavailableCases() {
  auto server = StartServer();
  server->Route("/close", HttpResponse::Close());
  server->Route("/reset", HttpResponse::Reset());
  server->Route(
      "/cut",
      HttpResponse::Text(200, std::string(1000, 'c')).WithFault(Fault::kCloseAfterBodyBytes, 100));
  Client client;
  for (const char* path : {"/close", "/reset"}) {
    const std::string url = server->url(path);
    absl::StatusOr<Response> r = co_await client.Get(url);
    EXPECT_THAT(r.status(),
                StatusIs(absl::StatusCode::kUnavailable, AllOf(HasSubstr("GET"), HasSubstr(url))));
  }
  // Failures while Send reads the body (kDiscard, kBuffer): Send's error names the method and
  // the URL too ("messages name the method, the URL and what failed").
  for (const char* path : {"/cut"}) {
    for (BodyMode mode : {BodyMode::kDiscard, BodyMode::kBuffer}) {
      const std::string url = server->url(path);
      absl::StatusOr<Response> r = co_await SendMode(client, "GET", url, mode);
      EXPECT_THAT(r.status(),
                  StatusIs(absl::StatusCode::kUnavailable, AllOf(HasSubstr("GET"), HasSubstr(url))))
          << path << " mode " << static_cast<int>(mode);
    }
  }
  // Connection refused: a port nobody listens on any more.
  const std::string gone = server->url("/x");
  server->Stop();
  absl::StatusOr<Response> r = co_await client.Get(gone);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(gone)));
}

TEST_F(ClientContractTest, UnavailableForRefusedClosedAndResetConnections) {
  CORIO_EXPECT_OK(RunTask(UnavailableCases()));
}

Task<void> NotFoundForNoSuchHost() {
  auto dns = corio::testing::FakeDnsServer::Start().value();
  dns->SetNxDomain("nope.test");
  dns::ResolverOptions ro;
  ro.servers = {dns->address()};
  ro.use_hosts_file = false;
  auto resolver = dns::Resolver::Create(ro).value();
  ClientOptions options;
  options.resolver = resolver.get();
  Client client(options);
  absl::StatusOr<Response> r = co_await client.Get("http://nope.test/x");
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.test")));
}

TEST_F(ClientContractTest, NotFoundForNoSuchHost) {
  CORIO_EXPECT_OK(RunTask(NotFoundForNoSuchHost()));
}

Task<void> DataLossCases() {
  auto server = StartServer();
  server->Route("/badstatus", HttpResponse::Raw("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"));
  server->Route("/conflict", HttpResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  server->Route("/badloc", HttpResponse::Redirect(302, "http://[::1"));
  server->Route("/ftploc", HttpResponse::Redirect(302, "ftp://x/"));
  const std::string corrupt("\x1f\x8b\x08\x00garbagegarbage!!", 20);
  server->Route("/corruptgz",
                HttpResponse::Raw(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                               "Content-Length: 20\r\n\r\n",
                                               corrupt)));
  server->Route("/badchunk", HttpResponse::Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                               "\r\nzz\r\nabc\r\n0\r\n\r\n"));
  Client client;
  for (const char* path : {"/badstatus", "/conflict", "/badloc", "/ftploc"}) {
    absl::StatusOr<Response> r = co_await client.Get(server->url(path));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDataLoss)) << path;
  }
  for (const char* path : {"/corruptgz", "/badchunk"}) {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url(path), BodyMode::kStream);
    absl::Status st = r.status();
    if (r.ok()) {
      absl::StatusOr<std::string> text = co_await r->Text();
      st = text.status();
    }
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kDataLoss)) << path;
  }
}

TEST_F(ClientContractTest, DataLossForMalformedResponsesLocationsAndEncodings) {
  CORIO_EXPECT_OK(RunTask(DataLossCases()));
}

Task<void> ResourceExhaustedCases() {
  auto server = StartServer();
  server->Route("/hugehead", HttpResponse::Text(200, "x").WithHugeHeader(100 * 1024));
  server->Route("/endless", HttpResponse::Text(200, "x").WithFault(Fault::kEndlessHeaders));
  server->Route("/big", HttpResponse::Text(200, std::string(5000, 'b')));
  server->Route("/loop", HttpResponse::Redirect(302, "/loop"));
  server->RoutePrefix("/chain/", [](const HttpRequest& r) {
    const int n = std::stoi(r.path.substr(7));
    if (n <= 0) return HttpResponse::Text(200, "end");
    return HttpResponse::Redirect(302, absl::StrCat("/chain/", n - 1));
  });
  ClientOptions options;
  options.max_redirects = 3;
  Client client(options);
  for (const char* path : {"/hugehead", "/endless", "/loop", "/chain/4"}) {
    absl::StatusOr<Response> r = co_await client.Get(server->url(path));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kResourceExhausted)) << path;
  }
  absl::StatusOr<Response> three = co_await client.Get(server->url("/chain/3"));
  EXPECT_TRUE(three.ok()) << three.status();
  Request req;
  req.url = server->url("/big");
  req.max_body_bytes = 1000;
  req.body_mode = BodyMode::kBuffer;
  absl::StatusOr<Response> big = co_await client.Send(std::move(req));
  EXPECT_THAT(big.status(), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(ClientContractTest, ResourceExhaustedForHugeHeadsBodiesAndRedirects) {
  CORIO_EXPECT_OK(RunTask(ResourceExhaustedCases()));
}

Task<void> DeadlineCases() {
  auto server = StartServer();
  server->Route("/stall", HttpResponse::Stall());
  server->Route(
      "/stallbody",
      HttpResponse::Text(200, std::string(1000, 's')).WithFault(Fault::kStallAfterBodyBytes, 10));
  auto hole = corio::testing::TcpBlackhole::Create().value();
  ClientOptions options;
  options.total_timeout = absl::Seconds(5);
  options.connect_timeout = absl::Seconds(1);
  options.read_timeout = absl::Seconds(2);
  Client client(options);
  const std::string stall = server->url("/stall");
  absl::StatusOr<Response> r = co_await client.Get(stall);
  // read timeout (2 s) fires before the total (5 s) while waiting for the head
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("GET"), HasSubstr(stall), HasSubstr("timeout"))));
  const std::string hole_url = absl::StrCat("http://", hole->address().ToString(), "/");
  absl::StatusOr<Response> c = co_await client.Get(hole_url);
  EXPECT_THAT(c.status(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                   AllOf(HasSubstr("connect timeout 1s"), HasSubstr(hole_url))));
  Request req;
  req.url = server->url("/stallbody");
  req.timeout = absl::Seconds(1);
  absl::StatusOr<Response> sb = co_await client.Send(std::move(req));
  EXPECT_TRUE(sb.ok()) << sb.status();
  if (sb.ok()) {
    // The request's total timeout also covers Response::Read after Send returned.
    absl::StatusOr<std::string> text = co_await sb->Text();
    EXPECT_THAT(text.status(),
                StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("total timeout 1s")));
  }
}

TEST_F(ClientContractTest, DeadlineExceededNamesTheTimeoutAndTheUrl) {
  CORIO_EXPECT_OK(RunTask(DeadlineCases()));
}

Task<void> TlsAndFilterCases() {
  auto certs = corio::testing::TlsCerts::Create().value();
  FakeHttpServer::Options so;
  so.tls = tls::TlsContext::CreateServer(
               {.cert_pem = certs.server().cert_pem, .key_pem = certs.server().key_pem})
               .value();
  auto server = StartServer(so);
  server->Route("/ok", HttpResponse::Text(200, "tls ok"));
  {
    Client client;  // the system store does not trust the throwaway CA
    absl::StatusOr<Response> r = co_await client.Get(server->url("/ok"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnauthenticated));
  }
  {
    ClientOptions o;
    o.tls.ca_file = "/nonexistent/ca.pem";
    Client client(o);
    absl::StatusOr<Response> r = co_await client.Get(server->url("/ok"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    ClientOptions o;
    o.tls.ca_file = certs.ca_file();
    Client client(o);
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->body(), "tls ok");
    }
  }
  {
    ClientOptions o;
    o.address_filter = [](const SocketAddress& a) {
      return absl::PermissionDeniedError(absl::StrCat("refused ", a.ToString()));
    };
    Client client(o);
    absl::StatusOr<Response> r = co_await client.Get(server->url("/ok"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kPermissionDenied));
  }
}

TEST_F(ClientContractTest, UnauthenticatedBadCaFileAndAddressFilter) {
  CORIO_EXPECT_OK(RunTask(TlsAndFilterCases()));
}

// ---- Response streaming ----

Task<void> Streaming() {
  auto server = StartServer();
  std::string big;
  for (int i = 0; i < 300000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  server->Route("/big", HttpResponse::Text(200, big));
  server->Route("/gz", HttpResponse::Text(200, big).WithEncoding(Encoding::kGzip));
  server->Route("/chunked", HttpResponse::Text(200, big).WithChunks({1, 7, 4096}));
  server->Route("/cut", HttpResponse::Text(200, big).WithFault(Fault::kCloseAfterBodyBytes, 5000));
  Client client;
  for (const char* path : {"/big", "/gz", "/chunked"}) {
    absl::StatusOr<Response> r = co_await client.Get(server->url(path));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) co_return;
    std::string got;
    std::vector<char> buf(1000);
    for (;;) {
      absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      EXPECT_LE(*n, buf.size());
      got.append(buf.data(), *n);
    }
    EXPECT_EQ(got, big) << path;
    EXPECT_EQ(r->body_bytes(), big.size()) << path;
    EXPECT_TRUE(r->body_done()) << path;
    absl::StatusOr<size_t> again = co_await r->Read(absl::MakeSpan(buf));
    EXPECT_TRUE(again.ok() && *again == 0) << path;
  }
  absl::StatusOr<Response> cut = co_await client.Get(server->url("/cut"));
  EXPECT_TRUE(cut.ok()) << cut.status();
  if (!cut.ok()) co_return;
  std::vector<char> buf(64 * 1024);
  absl::Status first;
  for (;;) {
    absl::StatusOr<size_t> n = co_await cut->Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      first = n.status();
      break;
    }
    if (*n == 0) break;
  }
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<size_t> later = co_await cut->Read(absl::MakeSpan(buf));
  EXPECT_EQ(later.status(), first) << "after an error every later Read returns the same error";
}

TEST_F(ClientContractTest, ResponseStreamsDecodedBytes) { CORIO_EXPECT_OK(RunTask(Streaming())); }

// ---- RaiseForStatus ----

Task<void> RaiseForStatusTable() {
  auto server = StartServer();
  server->RoutePrefix("/s/", [](const HttpRequest& r) {
    return HttpResponse::Status(std::stoi(r.path.substr(3)));
  });
  Client client;
  const std::vector<std::pair<int, absl::StatusCode>> table = {
      {200, absl::StatusCode::kOk},
      {204, absl::StatusCode::kOk},
      {304, absl::StatusCode::kOk},
      {400, absl::StatusCode::kInvalidArgument},
      {401, absl::StatusCode::kUnauthenticated},
      {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},
      {410, absl::StatusCode::kNotFound},
      {408, absl::StatusCode::kDeadlineExceeded},
      {504, absl::StatusCode::kDeadlineExceeded},
      {409, absl::StatusCode::kAborted},
      {412, absl::StatusCode::kFailedPrecondition},
      {429, absl::StatusCode::kResourceExhausted},
      {501, absl::StatusCode::kUnimplemented},
      {502, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},
      {418, absl::StatusCode::kFailedPrecondition},
      {451, absl::StatusCode::kFailedPrecondition},
      {500, absl::StatusCode::kInternal},
      {599, absl::StatusCode::kInternal},
  };
  for (const auto& [code, want] : table) {
    const std::string url = server->url(absl::StrCat("/s/", code));
    absl::StatusOr<Response> r = co_await SendMode(client, "GET", url, BodyMode::kDiscard);
    EXPECT_TRUE(r.ok()) << r.status() << " a " << code << " is a Response, not an error";
    if (!r.ok()) continue;
    EXPECT_EQ(r->status(), code);
    EXPECT_EQ(r->RaiseForStatus().code(), want) << code;
    EXPECT_EQ(r->ok(), code < 400) << code;
  }
  absl::StatusOr<Response> nf = co_await client.Get(server->url("/s/404"));
  if (nf.ok()) {
    EXPECT_EQ(nf->RaiseForStatus().message(),
              absl::StrCat("http 404 Not Found: GET ", server->url("/s/404")));
  }
}

TEST_F(ClientContractTest, RaiseForStatusFollowsTheTable) {
  CORIO_EXPECT_OK(RunTask(RaiseForStatusTable()));
}

// ---- The pool ----

Task<void> PoolReuseAndDirtyConnections() {
  auto server = StartServer();
  server->Route("/ok", HttpResponse::Text(200, "ok"));
  server->Route("/big", HttpResponse::Text(200, std::string(1 << 20, 'b')));
  server->Route("/close", HttpResponse::Text(200, "bye").WithClose());
  server->Route(
      "/cut",
      HttpResponse::Text(200, std::string(1000, 'c')).WithFault(Fault::kCloseAfterBodyBytes, 100));
  Client client;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(server->url("/ok"));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) co_return;
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), "ok");
  }
  EXPECT_EQ(server->stats().connections_accepted, 1);
  EXPECT_EQ(client.stats().connections_reused, 4u);
  // kDiscard: back in the pool when Send returns.
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/big"), BodyMode::kDiscard);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r.ok() ? r->body_bytes() : 0, uint64_t{1} << 20);
    EXPECT_EQ(client.stats().idle_connections, 1);
    EXPECT_EQ(client.stats().active_connections, 0);
  }
  EXPECT_EQ(server->stats().connections_accepted, 1);
  // A Response dropped before its body ended: its connection is closed, never pooled.
  {
    absl::StatusOr<Response> r = co_await client.Get(server->url("/big"));
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<char> buf(10);
    if (r.ok()) {
      absl::StatusOr<size_t> some = co_await r->Read(absl::MakeSpan(buf));
      EXPECT_TRUE(some.ok()) << some.status();
    }
  }
  EXPECT_EQ(client.stats().idle_connections, 0);
  EXPECT_EQ(client.stats().active_connections, 0);
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(server->stats().connections_accepted, 2);
  // Connection: close from the server: not pooled.
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/close"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(server->stats().connections_accepted, 3);
  // A body cut short: not pooled.
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/cut"), BodyMode::kBuffer);
    EXPECT_FALSE(r.ok());
  }
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(server->stats().connections_accepted, 4);
  EXPECT_EQ(client.stats().active_connections, 0);
}

TEST_F(ClientContractTest, PoolReusesCleanConnectionsOnly) {
  CORIO_EXPECT_OK(RunTask(PoolReuseAndDirtyConnections()));
}

// A keep-alive connection the server dropped as the next request arrived (it reads the
// request and closes without a word): an idempotent request is replayed once on a new
// connection; a POST is not.
Task<void> StaleConnectionReplay() {
  auto server = StartServer();
  auto handler = [](const HttpRequest& r) {
    if (r.index_on_connection > 0) return HttpResponse::Close();
    return HttpResponse::Text(200, absl::StrCat("fresh ", r.connection_index));
  };
  server->RoutePrefix("/", handler);
  Client client;
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/a"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url("/b"), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->body(), "fresh 1");
      EXPECT_EQ(r->retries(), 1) << "the replay counts as an attempt beyond the first";
    }
  }
  EXPECT_EQ(client.stats().replays, 1u);
  EXPECT_EQ(server->requests(), 3);
  {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "POST", server->url("/c"), BodyMode::kBuffer, "data");
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_EQ(server->requests(), 4) << "a POST is never replayed";
  EXPECT_EQ(client.stats().replays, 1u);
}

TEST_F(ClientContractTest, StaleKeepAliveConnectionIsReplayedForIdempotentRequestsOnly) {
  CORIO_EXPECT_OK(RunTask(StaleConnectionReplay()));
}

// ---- Cancellation ----

Task<void> CancelReleases() {
  auto server = StartServer();
  server->Route("/stall", HttpResponse::Stall());
  server->Route("/ok", HttpResponse::Text(200, "ok"));
  ClientOptions options;
  options.limit = 1;
  Client client(options);
  JoinHandle<absl::StatusOr<Response>> h = Spawn(client.Get(server->url("/stall")));
  FakeHttpServer* s = server.get();
  auto cond1 = [s] { return s->stats().in_flight == 1; };
  bool started = co_await WaitFor(cond1);
  EXPECT_TRUE(started);
  EXPECT_EQ(client.stats().active_connections, 1);
  h.Cancel();
  absl::StatusOr<absl::StatusOr<Response>> got = co_await std::move(h);
  absl::Status st = got.ok() ? got->status() : got.status();
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(client.stats().active_connections, 0);
  EXPECT_EQ(client.stats().idle_connections, 0);
  // The permit is free (limit 1) and the stalled connection was closed, not pooled.
  absl::StatusOr<Response> next =
      co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(server->stats().connections_accepted, 2);
  auto cond2 = [s] { return s->stats().connections_open == 1; };
  bool closed = co_await WaitFor(cond2);
  EXPECT_TRUE(closed) << "the cancelled request's connection is closed";
}

TEST_F(ClientContractTest, CancellingTheCallerReleasesTheConnection) {
  CORIO_EXPECT_OK(RunTask(CancelReleases()));
}

// ---- Limits ----

Task<void> Limits() {
  auto server = StartServer();
  std::shared_ptr<HttpGate> gate = HttpGate::Create();
  server->RoutePrefix("/g/", HttpResponse::Text(200, "g").WithGate(gate));
  ClientOptions options;
  options.limit = 3;
  options.limit_per_host = 2;
  Client client(options);
  std::vector<Task<absl::StatusOr<Response>>> tasks;
  const std::string local = absl::StrCat("http://localhost:", server->port());
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(
        SendMode(client, "GET", server->url(absl::StrCat("/g/", i)), BodyMode::kBuffer));
    tasks.push_back(SendMode(client, "GET", absl::StrCat(local, "/g/x", i), BodyMode::kBuffer));
  }
  JoinHandle<std::vector<absl::StatusOr<Response>>> all = Spawn(GatherSettled(std::move(tasks)));
  HttpGate* g = gate.get();
  auto cond3 = [g] { return g->waiting() == 3; };
  bool full = co_await WaitFor(cond3);
  EXPECT_TRUE(full);
  // Let any extra request that might wrongly start show up.
  (void)co_await Sleep(absl::Milliseconds(100));
  EXPECT_EQ(gate->waiting(), 3);
  gate->Open();
  absl::StatusOr<std::vector<absl::StatusOr<Response>>> results = co_await std::move(all);
  EXPECT_TRUE(results.ok());
  if (results.ok()) {
    for (auto& r : *results) EXPECT_TRUE(r.ok()) << r.status();
  }
  FakeHttpServer::Stats st = server->stats();
  EXPECT_EQ(st.max_in_flight, 3);
  for (const auto& [host, n] : st.max_in_flight_by_host) EXPECT_LE(n, 2) << host;
}

TEST_F(ClientContractTest, LimitAndLimitPerHostBoundRequestsInFlight) {
  CORIO_EXPECT_OK(RunTask(Limits()));
}

// ---- Headers ----

Task<void> Headers() {
  auto server = StartServer();
  server->Route("/h", HttpResponse::Text(200, "h")
                          .WithHeader("X-Dup", "1")
                          .WithHeader("x-dup", "2")
                          .WithHeader("Set-Cookie", "a=1")
                          .WithHeader("Set-Cookie", "b=2"));
  server->Route("/echo", corio::testing::EchoResponse);
  Client client;
  absl::StatusOr<Response> r =
      co_await SendMode(client, "GET", server->url("/h"), BodyMode::kBuffer);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) co_return;
  EXPECT_THAT(r->headers().GetAll("X-DUP"), ElementsAre("1", "2"));
  EXPECT_THAT(r->headers().GetAll("set-cookie"), ElementsAre("a=1", "b=2"));
  EXPECT_EQ(r->headers().Get("CONTENT-TYPE"), "text/plain; charset=utf-8");
  EXPECT_TRUE(r->headers().Has("content-length"));
  // Defaults.
  (void)co_await SendMode(client, "GET", server->url("/echo"), BodyMode::kBuffer);
  std::vector<HttpRequest> log = server->received_requests();
  EXPECT_FALSE(log.empty());
  if (log.empty()) co_return;
  const HttpRequest& got = log.back();
  EXPECT_EQ(got.Header("Host"), server->authority());
  EXPECT_EQ(got.Header("User-Agent"), absl::StrCat("corio/", kCorioVersion));
  EXPECT_EQ(got.Header("Accept-Encoding"), "gzip, deflate");
  EXPECT_FALSE(got.HasHeader("Content-Length")) << "a GET without a body has no length";
  // User headers override (any case), once; empty UA/Accept-Encoding send none; a POST with
  // an empty body still says Content-Length: 0.
  Request req;
  req.method = "POST";
  req.url = server->url("/echo");
  req.headers = {{"user-agent", ""},
                 {"ACCEPT-ENCODING", ""},
                 {"host", "example.test"},
                 {"X-Multi", "a, b: c"},
                 {"X-Multi", "d"}};
  req.body_mode = BodyMode::kBuffer;
  absl::StatusOr<Response> p = co_await client.Send(std::move(req));
  EXPECT_TRUE(p.ok()) << p.status();
  log = server->received_requests();
  const HttpRequest& post = log.back();
  EXPECT_FALSE(post.HasHeader("User-Agent"));
  EXPECT_FALSE(post.HasHeader("Accept-Encoding"));
  EXPECT_THAT(post.Headers("host"), ElementsAre("example.test"));
  EXPECT_THAT(post.Headers("x-multi"), ElementsAre("a, b: c", "d"));
  EXPECT_EQ(post.Header("Content-Length"), "0");
}

TEST_F(ClientContractTest, HeadersCaseInsensitiveDuplicatesKeptAndDefaults) {
  CORIO_EXPECT_OK(RunTask(Headers()));
}

// ---- A Response outliving its Client ----

Task<void> OutlivesClient() {
  auto server = StartServer();
  const std::string big(200000, 'z');
  server->Route("/big", HttpResponse::Text(200, big));
  std::optional<Response> kept;
  {
    Client client;
    absl::StatusOr<Response> r = co_await client.Get(server->url("/big"));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) co_return;
    kept.emplace(std::move(*r));
  }
  absl::StatusOr<std::string> text = co_await kept->Text();
  EXPECT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text.value_or(""), big);
  kept.reset();
  FakeHttpServer* s = server.get();
  auto cond4 = [s] { return s->stats().connections_open == 0; };
  bool closed = co_await WaitFor(cond4);
  EXPECT_TRUE(closed);
}

TEST_F(ClientContractTest, ResponseMayOutliveItsClient) {
  CORIO_EXPECT_OK(RunTask(OutlivesClient()));
}

// ---- Redirect history and retries ----

Task<void> HistoryAndRetries() {
  auto server = StartServer();
  server->Route("/a", HttpResponse::Redirect(301, "/b"));
  server->Route("/b", HttpResponse::Redirect(307, "/c"));
  server->Route("/c", HttpResponse::Text(200, "c"));
  server->RouteSequence("/flaky", {HttpResponse::Status(503).WithRetryAfter(absl::Seconds(3)),
                                   HttpResponse::Status(502), HttpResponse::Text(200, "ok")});
  server->Route("/always503", HttpResponse::Status(503));
  ClientOptions options;
  options.retry.max_retries = 2;
  Client client(options);
  absl::StatusOr<Response> r =
      co_await SendMode(client, "GET", server->url("/a"), BodyMode::kBuffer);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok()) {
    EXPECT_EQ(r->url_string(), server->url("/c"));
    EXPECT_EQ(r->history().size(), 2u);
    if (r->history().size() == 2) {
      EXPECT_EQ(r->history()[0].status, 301);
      EXPECT_EQ(r->history()[0].url, server->url("/a"));
      EXPECT_EQ(r->history()[0].location, "/b");
      EXPECT_EQ(r->history()[1].status, 307);
    }
  }
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> f =
      co_await SendMode(client, "GET", server->url("/flaky"), BodyMode::kBuffer);
  EXPECT_TRUE(f.ok()) << f.status();
  if (f.ok()) {
    EXPECT_EQ(f->status(), 200);
    EXPECT_EQ(f->retries(), 2);
  }
  EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(3)) << "Retry-After honoured";
  EXPECT_EQ(server->requests("/flaky"), 3);
  absl::StatusOr<Response> a =
      co_await SendMode(client, "GET", server->url("/always503"), BodyMode::kBuffer);
  EXPECT_TRUE(a.ok()) << "when retries run out on a 5xx the last response is the result";
  if (a.ok()) {
    EXPECT_EQ(a->status(), 503);
  }
  EXPECT_EQ(server->requests("/always503"), 3);
  absl::StatusOr<Response> post =
      co_await SendMode(client, "POST", server->url("/always503"), BodyMode::kBuffer, "x");
  EXPECT_TRUE(post.ok());
  EXPECT_EQ(server->requests("/always503"), 4) << "POST is not retried";
}

TEST_F(ClientContractTest, RedirectHistoryAndRetries) {
  CORIO_EXPECT_OK(RunTask(HistoryAndRetries()));
}

// Bodiless responses (HEAD, 204, 304), interim 1xx, and chunked bodies with trailers end
// cleanly: the connection goes back to the pool.
Task<void> BodilessAndChunkedArePooled() {
  auto server = StartServer();
  server->Route("/page", HttpResponse::Text(200, std::string(5000, 'p')));
  server->Route("/204", HttpResponse::Status(204));
  server->Route("/304", HttpResponse::Status(304).WithHeader("ETag", "\"x\""));
  server->Route("/interim", HttpResponse::Text(200, "after").WithInterim({100, 103}));
  server->Route("/trailers", [](const HttpRequest&) {
    HttpResponse r = HttpResponse::Text(200, std::string(3000, 't')).WithChunks({1000, 1000});
    r.trailers = {{"X-Checksum", "abc"}};
    return r;
  });
  Client client;
  absl::StatusOr<Response> head =
      co_await SendMode(client, "HEAD", server->url("/page"), BodyMode::kBuffer);
  EXPECT_TRUE(head.ok()) << head.status();
  if (head.ok()) {
    EXPECT_EQ(head->body(), "");
    EXPECT_EQ(head->content_length(), 5000u);
  }
  for (const char* path : {"/204", "/304", "/interim", "/trailers", "/page"}) {
    absl::StatusOr<Response> r =
        co_await SendMode(client, "GET", server->url(path), BodyMode::kBuffer);
    EXPECT_TRUE(r.ok()) << path << ": " << r.status();
  }
  EXPECT_EQ(server->stats().connections_accepted, 1);
  EXPECT_EQ(client.stats().connections_reused, 5u);
}

TEST_F(ClientContractTest, BodilessInterimAndChunkedResponsesArePooled) {
  CORIO_EXPECT_OK(RunTask(BodilessAndChunkedArePooled()));
}

// A redirect to another port of the same host changes the origin: Authorization and Cookie are
// dropped; other headers stay.
Task<void> CrossPortRedirectDropsCredentials() {
  auto a = StartServer();
  auto b = StartServer();
  b->Route("/echo", corio::testing::EchoResponse);
  a->Route("/go", HttpResponse::Redirect(302, b->url("/echo")));
  a->Route("/same", HttpResponse::Redirect(302, "/echo"));
  a->Route("/echo", corio::testing::EchoResponse);
  Client client;
  for (const bool cross : {true, false}) {
    Request req;
    req.url = a->url(cross ? "/go" : "/same");
    req.headers = {{"Authorization", "Bearer s3cret"}, {"Cookie", "a=b"}, {"X-Keep", "1"}};
    req.body_mode = BodyMode::kBuffer;
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<HttpRequest> log = cross ? b->received_requests() : a->received_requests();
    EXPECT_FALSE(log.empty());
    if (log.empty()) co_return;
    const HttpRequest& got = log.back();
    EXPECT_EQ(got.HasHeader("Authorization"), !cross);
    EXPECT_EQ(got.HasHeader("Cookie"), !cross);
    EXPECT_TRUE(got.HasHeader("X-Keep"));
  }
}

TEST_F(ClientContractTest, RedirectToAnotherPortDropsCredentials) {
  CORIO_EXPECT_OK(RunTask(CrossPortRedirectDropsCredentials()));
}

// Cancelling a task blocked in Response::Read: CANCELLED, and the connection is closed.
Task<absl::StatusOr<size_t>> ReadSome(Response* r) {
  std::vector<char> buf(4096);
  for (;;) {
    absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
    if (!n.ok() || *n == 0) co_return n;
  }
}

Task<void> CancelDuringRead() {
  auto server = StartServer();
  server->Route(
      "/stallbody",
      HttpResponse::Text(200, std::string(1000, 's')).WithFault(Fault::kStallAfterBodyBytes, 10));
  server->Route("/ok", HttpResponse::Text(200, "ok"));
  ClientOptions options;
  options.limit = 1;
  Client client(options);
  absl::StatusOr<Response> r = co_await client.Get(server->url("/stallbody"));
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) co_return;
  Response* rp = &*r;
  JoinHandle<absl::StatusOr<size_t>> h = Spawn(ReadSome(rp));
  (void)co_await Sleep(absl::Milliseconds(50));
  h.Cancel();
  absl::StatusOr<absl::StatusOr<size_t>> got = co_await std::move(h);
  absl::Status st = got.ok() ? got->status() : got.status();
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(client.stats().idle_connections, 0);
  // The Response is still alive here; once it is gone the permit (limit 1) is free again.
  *r = Response();
  absl::StatusOr<Response> next =
      co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(server->stats().connections_accepted, 2);
}

TEST_F(ClientContractTest, CancellingAReadClosesTheConnection) {
  CORIO_EXPECT_OK(RunTask(CancelDuringRead()));
}

// Retry-After as an HTTP date (RFC 9110 §10.2.3) is honoured too (capped by max_retry_after).
Task<void> RetryAfterDate() {
  auto server = StartServer();
  const absl::Time when = EventLoop::Current()->Now() + absl::Seconds(4);
  const std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", when, absl::UTCTimeZone());
  server->RouteSequence("/r", {HttpResponse::Status(503).WithHeader("Retry-After", date),
                               HttpResponse::Text(200, "ok")});
  ClientOptions options;
  options.retry.max_retries = 1;
  Client client(options);
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r =
      co_await SendMode(client, "GET", server->url("/r"), BodyMode::kBuffer);
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(2));
  EXPECT_EQ(server->requests("/r"), 2);
}

TEST_F(ClientContractTest, RetryAfterHttpDateIsHonoured) {
  CORIO_EXPECT_OK(RunTask(RetryAfterDate()));
}

// The connect timeout covers the TLS handshake: a peer that accepts TCP and never answers the
// ClientHello ends in DEADLINE_EXCEEDED naming the connect timeout, not in a hang until the
// total timeout.
Task<void> TlsHandshakeUnderTheConnectTimeout() {
  auto silent =
      corio::testing::FakeTcpServer::Start(corio::testing::FakeTcpServer::Behavior::kStall).value();
  ClientOptions options;
  options.connect_timeout = absl::Seconds(2);
  options.total_timeout = absl::Seconds(60);
  options.read_timeout = absl::Seconds(60);
  Client client(options);
  const std::string url = absl::StrCat("https://", silent->address().ToString(), "/");
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r = co_await client.Get(url);
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("connect timeout 2s")));
  EXPECT_LT(EventLoop::Current()->Now() - start, absl::Seconds(10));
}

TEST_F(ClientContractTest, ConnectTimeoutCoversTheTlsHandshake) {
  CORIO_EXPECT_OK(RunTask(TlsHandshakeUnderTheConnectTimeout()));
}

// Post(url, body, content_type): the body with its length and the given Content-Type.
Task<void> PostSendsBodyAndContentType() {
  auto server = StartServer();
  server->Route("/echo", corio::testing::EchoResponse);
  Client client;
  absl::StatusOr<Response> r =
      co_await client.Post(server->url("/echo"), R"({"a":1})", "application/json");
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<HttpRequest> log = server->received_requests();
  EXPECT_EQ(log.size(), 1u);
  if (log.empty()) co_return;
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].body, R"({"a":1})");
  EXPECT_EQ(log[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(log[0].Header("Content-Length"), "7");
}

TEST_F(ClientContractTest, PostSendsTheBodyAndItsContentType) {
  CORIO_EXPECT_OK(RunTask(PostSendsBodyAndContentType()));
}

// Idle connections: at most max_idle_per_host are kept, each for idle_timeout; they hold no
// permit (limit 5 and 5 idle connections: a sixth request still runs).
Task<void> IdleConnectionsBoundedAndExpire() {
  auto server = StartServer();
  std::shared_ptr<HttpGate> gate = HttpGate::Create();
  server->RoutePrefix("/g/", HttpResponse::Text(200, "g").WithGate(gate));
  server->Route("/ok", HttpResponse::Text(200, "ok"));
  ClientOptions options;
  options.limit = 5;
  options.max_idle_per_host = 2;
  options.idle_timeout = absl::Seconds(10);
  Client client(options);
  std::vector<Task<absl::StatusOr<Response>>> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(
        SendMode(client, "GET", server->url(absl::StrCat("/g/", i)), BodyMode::kBuffer));
  }
  JoinHandle<std::vector<absl::StatusOr<Response>>> all = Spawn(GatherSettled(std::move(tasks)));
  HttpGate* g = gate.get();
  auto five_waiting = [g] { return g->waiting() == 5; };
  bool held = co_await WaitFor(five_waiting);
  EXPECT_TRUE(held);
  gate->Open();
  absl::StatusOr<std::vector<absl::StatusOr<Response>>> done = co_await std::move(all);
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(server->stats().connections_accepted, 5);
  EXPECT_EQ(client.stats().idle_connections, 2);
  EXPECT_EQ(client.stats().active_connections, 0);
  FakeHttpServer* s = server.get();
  auto two_open = [s] { return s->stats().connections_open == 2; };
  bool closed_extra = co_await WaitFor(two_open);
  EXPECT_TRUE(closed_extra) << "connections beyond max_idle_per_host are closed";
  // Past idle_timeout, the idle connections are not used again (they are swept on the pool's
  // next activity) and end up closed.
  (void)co_await Sleep(absl::Seconds(11));
  absl::StatusOr<Response> again =
      co_await SendMode(client, "GET", server->url("/ok"), BodyMode::kBuffer);
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(server->stats().connections_accepted, 6);
  EXPECT_EQ(client.stats().idle_connections, 1);
  auto one_open = [s] { return s->stats().connections_open == 1; };
  bool expired = co_await WaitFor(one_open);
  EXPECT_TRUE(expired);
}

TEST_F(ClientContractTest, IdleConnectionsAreBoundedAndExpire) {
  CORIO_EXPECT_OK(RunTask(IdleConnectionsBoundedAndExpire()));
}

}  // namespace
}  // namespace corio::http
