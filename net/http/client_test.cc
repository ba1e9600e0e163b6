#include "net/http/client.h"

#include <zlib.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "net/dns/resolver.h"
#include "net/http/testing/script_server.h"
#include "net/tcp_listener.h"
#include "net/tls/tls_context.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"
#include "testing/dns_server.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tcp_blackhole.h"
#include "testing/tcp_server.h"
#include "testing/tls_certs.h"

namespace corio::http {
namespace {

using ::corio::http::testing::RawRequest;
using ::corio::http::testing::Reply;
using ::corio::http::testing::ScriptServer;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::corio::tls::CertAndKey;
using ::testing::AllOf;
using ::testing::HasSubstr;

class ClientTest : public corio::testing::FdLeakCheck {};

Task<void> GetBodyAndHeaders() {
  auto server =
      ScriptServer::Start([](const RawRequest&) {
        return Reply::Ok("hello", 200, "X-A: 1\r\nx-a: 2\r\nContent-Type: text/plain\r\n");
      }).value();
  Client client;
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/path?q=1"));
  CORIO_EXPECT_OK(r.status());
  if (!r.ok()) co_return;
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->reason(), "OK");
  EXPECT_EQ(r->headers().Get("content-type"), "text/plain");
  EXPECT_THAT(r->headers().GetAll("X-A"), ::testing::ElementsAre("1", "2"));
  EXPECT_EQ(r->url_string(), server->Url("/path?q=1"));
  absl::StatusOr<std::string> text = co_await r->Text();
  CORIO_EXPECT_OK(text.status());
  EXPECT_EQ(text.value_or(""), "hello");
  EXPECT_TRUE(r->body_done());
  EXPECT_EQ(server->log().size(), 1u);
  if (server->log().size() != 1) co_return;
  const RawRequest& req = server->log()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/path?q=1");
  EXPECT_EQ(req.Header("host"), absl::StrCat("127.0.0.1:", server->port()));
  EXPECT_EQ(req.Header("user-agent"), absl::StrCat("corio/", kCorioVersion));
  EXPECT_EQ(req.Header("accept-encoding"), "gzip, deflate");
}

TEST_F(ClientTest, GetReturnsStatusHeadersAndBody) {
  CORIO_EXPECT_OK(RunTask(GetBodyAndHeaders()));
}

Task<void> KeepAliveReuse() {
  auto server =
      ScriptServer::Start([](const RawRequest& req) { return Reply::Ok(req.target); }).value();
  Client client;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(server->Url(absl::StrCat("/", i)));
    CORIO_EXPECT_OK(r.status());
    if (!r.ok()) co_return;
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), absl::StrCat("/", i));
  }
  EXPECT_EQ(server->connections(), 1);
  ClientStats st = client.stats();
  EXPECT_EQ(st.connections_opened, 1u);
  EXPECT_EQ(st.connections_reused, 4u);
  EXPECT_EQ(st.requests, 5u);
  EXPECT_EQ(st.idle_connections, 1);
  EXPECT_EQ(st.active_connections, 0);
}

TEST_F(ClientTest, KeepAliveConnectionIsReused) { CORIO_EXPECT_OK(RunTask(KeepAliveReuse())); }

// ---- request side ----

Task<absl::Status> UserHeadersOverrideDefaults() {
  auto server = ScriptServer::Start([](const RawRequest&) { return Reply::Ok("x"); }).value();
  Client client;
  Request req;
  req.method = "PUT";
  req.url = server->Url("/u");
  req.body = "payload";
  req.headers = {{"user-agent", "mine/1"}, {"Accept-Encoding", ""}, {"X-Extra", "a, b: c"}};
  absl::StatusOr<Response> r = co_await client.Send(std::move(req));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  const RawRequest& got = server->log().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.Header("User-Agent"), "mine/1");
  EXPECT_EQ(got.head.find("Accept-Encoding"), std::string::npos);
  EXPECT_EQ(got.Header("x-extra"), "a, b: c");
  EXPECT_EQ(got.Header("content-length"), "7");
  EXPECT_EQ(got.body, "payload");
  co_return absl::OkStatus();
}

TEST_F(ClientTest, UserHeadersOverrideDefaultsAndBodiesHaveContentLength) {
  CORIO_EXPECT_OK(RunTask(UserHeadersOverrideDefaults()));
}

Task<absl::Status> BadRequests() {
  auto server = ScriptServer::Start([](const RawRequest&) { return Reply::Ok("x"); }).value();
  Client client;
  Request inject;
  inject.url = server->Url("/");
  inject.headers = {{"X-A", "1\r\nX-Injected: yes"}};
  absl::StatusOr<Response> r1 = co_await client.Send(std::move(inject));
  EXPECT_THAT(r1.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("X-A")));
  Request method;
  method.method = "GE T";
  method.url = server->Url("/");
  absl::StatusOr<Response> r2 = co_await client.Send(std::move(method));
  EXPECT_THAT(r2.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* bad : {"htp://x", "http://", "http://[::1", "not a url", "http://h:99999/"}) {
    absl::StatusOr<Response> r = co_await client.Get(bad);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  absl::StatusOr<Response> ok = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(ok.status());
  EXPECT_EQ(server->requests(), 1);  // nothing reached the server before
  co_return absl::OkStatus();
}

TEST_F(ClientTest, InvalidUrlsMethodsAndHeaderInjectionAreInvalidArgument) {
  CORIO_EXPECT_OK(RunTask(BadRequests()));
}

// ---- redirects ----

Task<absl::Status> RedirectMethodRules() {
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  if (req.target.rfind("/r/", 0) == 0) {
                    const std::string code = req.target.substr(3, 3);
                    return Reply::Ok("", std::stoi(code), "Location: /final\r\n");
                  }
                  return Reply::Ok(req.method + " " + req.body);
                }).value();
  Client client;
  struct Case {
    int code;
    const char* method;
    const char* want;
  } cases[] = {{301, "POST", "GET "},    {302, "POST", "GET "},      {303, "POST", "GET "},
               {303, "PUT", "GET "},     {307, "POST", "POST data"}, {308, "POST", "POST data"},
               {301, "PUT", "PUT data"}, {303, "HEAD", ""}};
  for (const Case& c : cases) {
    Request req;
    req.method = c.method;
    req.url = server->Url(absl::StrCat("/r/", c.code));
    req.body = "data";
    req.headers = {{"Content-Type", "text/plain"}};
    absl::StatusOr<Response> r = co_await client.Send(std::move(req));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    absl::StatusOr<std::string> text = co_await r->Text();
    CORIO_CO_RETURN_IF_ERROR(text.status());
    EXPECT_EQ(*text, c.want) << c.code << " " << c.method;
    EXPECT_EQ(r->history().size(), 1u);
    EXPECT_EQ(r->history().at(0).status, c.code);
    EXPECT_EQ(r->url_string(), server->Url("/final"));
    if (std::string(c.want).rfind("GET", 0) == 0) {
      EXPECT_EQ(server->log().back().Header("content-type"), "");
    }
  }
  EXPECT_EQ(server->connections(), 1);  // redirect bodies drained; one connection throughout
  co_return absl::OkStatus();
}

TEST_F(ClientTest, RedirectsFollowTheMethodRules) {
  CORIO_EXPECT_OK(RunTask(RedirectMethodRules()));
}

Task<absl::Status> RedirectLimitsAndLoops() {
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  if (req.target == "/loop-a") return Reply::Ok("", 302, "Location: /loop-b\r\n");
                  if (req.target == "/loop-b") return Reply::Ok("", 302, "Location: /loop-a\r\n");
                  if (req.target.rfind("/chain/", 0) == 0) {
                    int n = std::stoi(req.target.substr(7));
                    return Reply::Ok("", 302, absl::StrCat("Location: /chain/", n + 1, "\r\n"));
                  }
                  if (req.target == "/bad") return Reply::Ok("", 302, "Location: http://[::1\r\n");
                  if (req.target == "/ftp") return Reply::Ok("", 302, "Location: ftp://x/\r\n");
                  if (req.target == "/noloc") return Reply::Ok("see other", 302);
                  if (req.target == "/a/b/rel")
                    return Reply::Ok("", 301, "Location: ../x/./y?z=1\r\n");
                  return Reply::Ok(req.target);
                }).value();
  ClientOptions options;
  options.max_redirects = 3;
  Client client(options);
  absl::StatusOr<Response> loop = co_await client.Get(server->Url("/loop-a"));
  EXPECT_THAT(loop.status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("redirect loop")));
  absl::StatusOr<Response> chain = co_await client.Get(server->Url("/chain/0"));
  EXPECT_THAT(chain.status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("too many redirects")));
  absl::StatusOr<Response> bad = co_await client.Get(server->Url("/bad"));
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Location")));
  absl::StatusOr<Response> ftp = co_await client.Get(server->Url("/ftp"));
  EXPECT_THAT(ftp.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Location")));
  absl::StatusOr<Response> noloc = co_await client.Get(server->Url("/noloc"));
  CORIO_CO_RETURN_IF_ERROR(noloc.status());
  EXPECT_EQ(noloc->status(), 302);  // nothing to follow: the 3xx is the answer
  absl::StatusOr<Response> rel = co_await client.Get(server->Url("/a/b/rel"));
  CORIO_CO_RETURN_IF_ERROR(rel.status());
  EXPECT_EQ(rel->url_string(), server->Url("/a/x/y?z=1"));
  Request no_follow;
  no_follow.url = server->Url("/loop-a");
  no_follow.follow_redirects = false;
  absl::StatusOr<Response> nf = co_await client.Send(std::move(no_follow));
  CORIO_CO_RETURN_IF_ERROR(nf.status());
  EXPECT_EQ(nf->status(), 302);
  // A request's own limit replaces the client's.
  Request one_hop;
  one_hop.url = server->Url("/chain/0");
  one_hop.max_redirects = 1;
  absl::StatusOr<Response> oh = co_await client.Send(std::move(one_hop));
  EXPECT_THAT(oh.status(), StatusIs(absl::StatusCode::kResourceExhausted,
                                    HasSubstr("too many redirects (more than 1)")));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, RedirectLoopsLimitsAndBadLocations) {
  CORIO_EXPECT_OK(RunTask(RedirectLimitsAndLoops()));
}

Task<absl::Status> CredentialsDroppedAcrossOrigins() {
  auto other =
      ScriptServer::Start([](const RawRequest& req) { return Reply::Ok("other"); }).value();
  const std::string target = other->Url("/landing");
  auto server = ScriptServer::Start([target](const RawRequest& req) {
                  if (req.target == "/same") return Reply::Ok("", 302, "Location: /here\r\n");
                  if (req.target == "/away") {
                    return Reply::Ok("", 307, absl::StrCat("Location: ", target, "\r\n"));
                  }
                  return Reply::Ok("here");
                }).value();
  Client client;
  Request same;
  same.url = server->Url("/same");
  same.headers = {{"Authorization", "Bearer t"}, {"Cookie", "c=1"}};
  absl::StatusOr<Response> r1 = co_await client.Send(std::move(same));
  CORIO_CO_RETURN_IF_ERROR(r1.status());
  EXPECT_EQ(server->log().back().Header("authorization"), "Bearer t");
  EXPECT_EQ(server->log().back().Header("cookie"), "c=1");
  Request away;
  away.url = server->Url("/away");
  away.headers = {{"Authorization", "Bearer t"}, {"Cookie", "c=1"}, {"X-Keep", "k"}};
  absl::StatusOr<Response> r2 = co_await client.Send(std::move(away));
  CORIO_CO_RETURN_IF_ERROR(r2.status());
  EXPECT_EQ(r2->url_string(), target);
  EXPECT_EQ(other->log().at(0).Header("authorization"), "");
  EXPECT_EQ(other->log().at(0).Header("cookie"), "");
  EXPECT_EQ(other->log().at(0).Header("x-keep"), "k");
  co_return absl::OkStatus();
}

TEST_F(ClientTest, AuthorizationAndCookieDroppedWhenTheOriginChanges) {
  CORIO_EXPECT_OK(RunTask(CredentialsDroppedAcrossOrigins()));
}

// ---- timeouts ----

Task<absl::Status> TotalTimeoutOnSlowloris() {
  // One header byte per second, forever: the per-read timeout never fires, the total one does.
  std::string endless = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 1000; ++i) endless += "X-Slow: 1\r\n";
  auto server = ScriptServer::Start([endless](const RawRequest&) {
                  Reply r = Reply::Bytes(endless);
                  r.trickle = absl::Seconds(1);
                  return r;
                }).value();
  ClientOptions options;
  options.read_timeout = absl::Seconds(10);
  Client client(options);
  Request req;
  req.url = server->Url("/slow");
  req.timeout = absl::Seconds(5);
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r = co_await client.Send(std::move(req));
  const absl::Duration took = EventLoop::Current()->Now() - start;
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                   AllOf(HasSubstr("total timeout 5s"), HasSubstr("/slow"))));
  EXPECT_GE(took, absl::Seconds(5));
  EXPECT_LT(took, absl::Seconds(6));  // virtual time: on time, not after the trickle ends
  EXPECT_EQ(client.stats().active_connections, 0);
  EXPECT_EQ(client.stats().idle_connections, 0);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, SlowlorisHeadersHitTheTotalTimeoutOnTime) {
  CORIO_EXPECT_OK(RunTask(TotalTimeoutOnSlowloris()));
}

Task<absl::Status> TotalTimeoutCoversBodyReads() {
  auto server = ScriptServer::Start([](const RawRequest&) {
                  Reply r = Reply::Bytes(absl::StrCat(
                      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", std::string(100, 'b')));
                  r.trickle = absl::Milliseconds(500);
                  return r;
                }).value();
  Client client;
  Request req;
  req.url = server->Url("/body");
  req.timeout = absl::Seconds(20);
  absl::StatusOr<Response> r = co_await client.Send(std::move(req));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  absl::StatusOr<std::string> text = co_await r->Text();
  EXPECT_THAT(text.status(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                      AllOf(HasSubstr("total timeout 20s"), HasSubstr("/body"))));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, TotalTimeoutCoversTheBodyReadAfterSend) {
  CORIO_EXPECT_OK(RunTask(TotalTimeoutCoversBodyReads()));
}

Task<absl::Status> ReadTimeout() {
  auto server = ScriptServer::Start([](const RawRequest&) {
                  return Reply::Bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                                      Reply::After::kStall);
                }).value();
  ClientOptions options;
  options.read_timeout = absl::Seconds(2);
  Client client(options);
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/stall"));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  absl::StatusOr<std::string> text = co_await r->Text();
  EXPECT_THAT(text.status(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                      AllOf(HasSubstr("read timeout 2s"), HasSubstr("/stall"))));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, StalledBodyHitsTheReadTimeout) { CORIO_EXPECT_OK(RunTask(ReadTimeout())); }

Task<absl::Status> ConnectTimeoutCoversDns() {
  auto dns = corio::testing::FakeDnsServer::Start().value();
  dns->SetDrop("blackhole.test");
  dns::ResolverOptions ro;
  ro.servers = {dns->address()};
  ro.use_hosts_file = false;
  ro.try_timeout = absl::Seconds(30);
  auto resolver = dns::Resolver::Create(ro).value();
  ClientOptions options;
  options.resolver = resolver.get();
  options.connect_timeout = absl::Seconds(1);
  Client client(options);
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r = co_await client.Get("http://blackhole.test:8080/");
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("connect timeout 1s"), HasSubstr("blackhole.test"))));
  EXPECT_LT(EventLoop::Current()->Now() - start, absl::Seconds(2));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, ConnectTimeoutCoversDns) { CORIO_EXPECT_OK(RunTask(ConnectTimeoutCoversDns())); }

// The total timeout bounds a request write the server never reads (no task per request
// bounds it: the write itself waits with the deadline).
Task<absl::Status> TotalTimeoutCoversAStuckWrite() {
  auto server = corio::testing::FakeTcpServer::Start(
                    corio::testing::FakeTcpServer::Behavior::kStall)
                    .value();
  Client client;
  Request req;
  req.method = "POST";
  req.url = absl::StrCat("http://", server->address().ToString(), "/upload");
  req.body = std::string(64 << 20, 'x');  // more than the socket buffers hold
  req.timeout = absl::Seconds(5);
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r = co_await client.Send(std::move(req));
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                   AllOf(HasSubstr("total timeout 5s"), HasSubstr("/upload"))));
  EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(5));
  EXPECT_EQ(client.stats().active_connections, 0);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, TotalTimeoutCoversAWriteTheServerNeverReads) {
  CORIO_EXPECT_OK(RunTask(TotalTimeoutCoversAStuckWrite()));
}

// Without a connect timeout, the total timeout still bounds connecting.
Task<absl::Status> TotalTimeoutCoversConnect() {
  auto hole = corio::testing::TcpBlackhole::Create().value();
  ClientOptions options;
  options.connect_timeout = absl::InfiniteDuration();
  options.total_timeout = absl::Seconds(3);
  Client client(options);
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> r =
      co_await client.Get(absl::StrCat("http://", hole->address().ToString(), "/x"));
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("total timeout 3s")));
  EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
  EXPECT_EQ(client.stats().active_connections, 0);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, TotalTimeoutCoversConnectWithoutAConnectTimeout) {
  CORIO_EXPECT_OK(RunTask(TotalTimeoutCoversConnect()));
}

Task<absl::Status> NoPoolDeadlockAfterTimeouts() {
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  if (req.target == "/stall") return Reply::Bytes("", Reply::After::kStall);
                  return Reply::Ok("fine");
                }).value();
  ClientOptions options;
  options.limit = 4;
  options.limit_per_host = 2;
  Client client(options);
  std::vector<Task<absl::StatusOr<Response>>> stalls;
  for (int i = 0; i < 20; ++i) {
    Request req;
    req.url = server->Url("/stall");
    req.timeout = absl::Seconds(1);
    stalls.push_back(client.Send(std::move(req)));
  }
  std::vector<absl::StatusOr<Response>> results = co_await GatherSettled(std::move(stalls));
  for (const auto& r : results) {
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  EXPECT_EQ(client.stats().active_connections, 0);
  std::vector<Task<absl::StatusOr<Response>>> fine;
  for (int i = 0; i < 10; ++i) fine.push_back(client.Get(server->Url("/ok")));
  std::vector<absl::StatusOr<Response>> ok = co_await GatherSettled(std::move(fine));
  for (auto& r : ok) {
    CORIO_CO_RETURN_IF_ERROR(r.status());
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->body(), "fine");  // small bodies come with the head: the permit is free
  }
  EXPECT_EQ(client.stats().active_connections, 0);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, NoPoolDeadlockAfterManyTimeouts) {
  CORIO_EXPECT_OK(RunTask(NoPoolDeadlockAfterTimeouts()));
}

Task<absl::Status> CancelReleasesEverything() {
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  if (req.target == "/stall") return Reply::Bytes("", Reply::After::kStall);
                  return Reply::Ok("fine");
                }).value();
  ClientOptions options;
  options.limit = 1;
  Client client(options);
  JoinHandle<absl::StatusOr<Response>> h = Spawn(client.Get(server->Url("/stall")));
  absl::Status slept = co_await Sleep(absl::Seconds(1));
  CORIO_CO_RETURN_IF_ERROR(slept);
  EXPECT_EQ(client.stats().active_connections, 1);
  h.Cancel();
  absl::StatusOr<Response> r = co_await std::move(h);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(client.stats().active_connections, 0);
  EXPECT_EQ(client.stats().idle_connections, 0);  // closed, not pooled
  absl::StatusOr<Response> next = co_await client.Get(server->Url("/ok"));
  CORIO_CO_RETURN_IF_ERROR(next.status());
  EXPECT_EQ(server->connections(), 2);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, CancellingTheCallerClosesTheConnectionAndFreesThePermit) {
  CORIO_EXPECT_OK(RunTask(CancelReleasesEverything()));
}

// ---- pool ----

// Counts requests in flight over both servers: incremented by the handler, decremented when
// the delayed reply is due.
Task<void> Decrement(int* now, absl::Duration after) {
  (void)co_await Sleep(after);
  --*now;
}

Task<absl::Status> LimitsAreHonoured(int limit, int per_host) {
  auto now = std::make_shared<int>(0);
  auto peak = std::make_shared<int>(0);
  auto handler = [now, peak](const RawRequest&) {
    *peak = std::max(*peak, ++*now);
    Spawn(Decrement(now.get(), absl::Milliseconds(99))).Detach();
    Reply r = Reply::Ok("x");
    r.delay = absl::Milliseconds(100);
    return r;
  };
  auto a = ScriptServer::Start(handler).value();
  auto b = ScriptServer::Start(handler).value();
  ClientOptions options;
  options.limit = limit;
  options.limit_per_host = per_host;
  Client client(options);
  std::vector<Task<absl::StatusOr<Response>>> tasks;
  for (int i = 0; i < 30; ++i) {
    Request req;
    req.url = (i % 2 ? a : b)->Url("/");
    req.body_mode = BodyMode::kBuffer;
    tasks.push_back(client.Send(std::move(req)));
  }
  std::vector<absl::StatusOr<Response>> results = co_await GatherSettled(std::move(tasks));
  for (auto& r : results) CORIO_CO_RETURN_IF_ERROR(r.status());
  EXPECT_LE(*peak, limit);
  EXPECT_GE(*peak, 2);  // the requests did overlap
  if (per_host > 0) {
    EXPECT_LE(a->max_in_flight(), per_host);
    EXPECT_LE(b->max_in_flight(), per_host);
  }
  EXPECT_LE(a->connections(), per_host > 0 ? per_host : limit);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, LimitAndLimitPerHostBoundRequestsInFlight) {
  CORIO_EXPECT_OK(RunTask(LimitsAreHonoured(4, 0)));
  CORIO_EXPECT_OK(RunTask(LimitsAreHonoured(5, 2)));
  CORIO_EXPECT_OK(RunTask(LimitsAreHonoured(3, 3)));
}

Task<absl::Status> ReplayOnStaleConnection() {
  // The server answers once per connection, then closes the next request without a byte (as
  // a server does whose keep-alive timer fired as the request arrived).
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  if (req.index_on_connection > 0) return Reply::Bytes("", Reply::After::kClose);
                  return Reply::Ok("ok");
                }).value();
  Client client;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(server->Url("/"));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), "ok");
    if (i > 0) {
      EXPECT_EQ(r->retries(), 1);
    }
  }
  EXPECT_EQ(client.stats().replays, 2u);
  // POST is not replayed.
  absl::StatusOr<Response> post = co_await client.Post(server->Url("/"), "x");
  EXPECT_THAT(post.status(), StatusIs(absl::StatusCode::kUnavailable));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, IdempotentRequestReplayedOnceWhenAReusedConnectionDies) {
  CORIO_EXPECT_OK(RunTask(ReplayOnStaleConnection()));
}

Task<absl::Status> ServerClosesEveryConnection() {
  auto server = ScriptServer::Start([](const RawRequest&) {
                  Reply r = Reply::Ok("once");
                  r.after = Reply::After::kClose;  // no "Connection: close": a silent close
                  return r;
                }).value();
  auto polite = ScriptServer::Start([](const RawRequest&) {
                  return Reply::Ok("once", 200, "Connection: close\r\n");
                }).value();
  Client client;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(server->Url("/"));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), "once");
    absl::StatusOr<Response> p = co_await client.Get(polite->Url("/"));
    CORIO_CO_RETURN_IF_ERROR(p.status());
    absl::StatusOr<std::string> pt = co_await p->Text();
    EXPECT_EQ(pt.value_or(""), "once");
  }
  EXPECT_EQ(server->connections(), 5);
  EXPECT_EQ(polite->connections(), 5);
  // A connection reused the instant after a silent close is not idle-checked for a GET (see
  // Pool::TakeIdle): the GET found it dead before any byte and was replayed.
  EXPECT_EQ(client.stats().connections_reused, client.stats().replays);
  // A POST is never replayed, so its connection is idle-checked even when fresh: the silent
  // close is seen before the request is written.
  absl::StatusOr<Response> get = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(get.status());
  CORIO_CO_RETURN_IF_ERROR(co_await get->Discard());
  const uint64_t replays = client.stats().replays;
  absl::StatusOr<Response> post = co_await client.Post(server->Url("/"), "data");
  CORIO_CO_RETURN_IF_ERROR(post.status());
  EXPECT_EQ(post->status(), 200);
  EXPECT_EQ(client.stats().replays, replays);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, ServerClosingEveryKeepAliveConnection) {
  CORIO_EXPECT_OK(RunTask(ServerClosesEveryConnection()));
}

Task<absl::Status> EarlyDestroyedResponseClosesConnection() {
  auto server = ScriptServer::Start([](const RawRequest&) {
                  return Reply::Ok(std::string(100000, 'z'));
                }).value();
  Client client;
  {
    absl::StatusOr<Response> r = co_await client.Get(server->Url("/"));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    char buf[10];
    absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
    CORIO_CO_RETURN_IF_ERROR(n.status());
    EXPECT_EQ(client.stats().active_connections, 1);
  }
  EXPECT_EQ(client.stats().active_connections, 0);
  EXPECT_EQ(client.stats().idle_connections, 0);
  EXPECT_EQ(client.stats().connections_closed, 1u);
  absl::StatusOr<Response> again = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(again.status());
  CORIO_CO_RETURN_IF_ERROR(co_await again->Discard());
  EXPECT_EQ(server->connections(), 2);
  EXPECT_EQ(client.stats().idle_connections, 1);  // read to the end: pooled
  co_return absl::OkStatus();
}

TEST_F(ClientTest, ResponseDestroyedBeforeTheEndClosesItsConnection) {
  CORIO_EXPECT_OK(RunTask(EarlyDestroyedResponseClosesConnection()));
}

Task<absl::Status> ResponseOutlivesClient() {
  auto server = ScriptServer::Start([](const RawRequest&) {
                  return Reply::Ok(std::string(50000, 'q'));
                }).value();
  absl::StatusOr<Response> r;
  {
    Client client;
    r = co_await client.Get(server->Url("/"));
  }
  CORIO_CO_RETURN_IF_ERROR(r.status());
  absl::StatusOr<std::string> t = co_await r->Text();
  CORIO_CO_RETURN_IF_ERROR(t.status());
  EXPECT_EQ(t->size(), 50000u);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, ResponseMayOutliveItsClient) {
  CORIO_EXPECT_OK(RunTask(ResponseOutlivesClient()));
}

Task<absl::Status> IdleTimeout() {
  auto server = ScriptServer::Start([](const RawRequest&) { return Reply::Ok("x"); }).value();
  ClientOptions options;
  options.idle_timeout = absl::Seconds(5);
  Client client(options);
  absl::StatusOr<Response> r1 = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(r1.status());
  CORIO_CO_RETURN_IF_ERROR(co_await r1->Discard());
  CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(6)));
  absl::StatusOr<Response> r2 = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(r2.status());
  EXPECT_EQ(server->connections(), 2);
  EXPECT_EQ(client.stats().connections_reused, 0u);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, IdleConnectionsExpire) { CORIO_EXPECT_OK(RunTask(IdleTimeout())); }

// ---- bad input from the server ----

// Fetches `path` and reads the whole body; returns the first error.
Task<absl::Status> FetchAll(Client& client, std::string url) {
  absl::StatusOr<Response> r = co_await client.Get(std::move(url));
  if (!r.ok()) co_return r.status();
  absl::StatusOr<std::string> t = co_await r->Text();
  co_return t.status();
}

Task<absl::Status> BrokenResponses() {
  const std::string huge_line = absl::StrCat(
      "HTTP/1.1 200 OK\r\nX-Big: ", std::string(1 << 20, 'a'), "\r\nContent-Length: 0\r\n\r\n");
  std::string endless = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 20000; ++i) absl::StrAppend(&endless, "X-", i, ": v\r\n");
  struct Case {
    const char* path;
    std::string bytes;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"/cl-truncated", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
       absl::StatusCode::kUnavailable},
      {"/chunked-truncated", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
       absl::StatusCode::kUnavailable},
      {"/chunked-no-end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
       absl::StatusCode::kUnavailable},
      {"/bad-status", "HTTX/1.1 200 OK\r\n\r\n", absl::StatusCode::kDataLoss},
      {"/bad-code", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", absl::StatusCode::kDataLoss},
      {"/bad-header", "HTTP/1.1 200 OK\r\nNo Colon Here\r\nContent-Length: 0\r\n\r\n",
       absl::StatusCode::kDataLoss},
      {"/space-before-colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
       absl::StatusCode::kDataLoss},
      {"/cl-and-te",
       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       absl::StatusCode::kDataLoss},
      {"/two-cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
       absl::StatusCode::kDataLoss},
      {"/bad-chunk",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       absl::StatusCode::kDataLoss},
      {"/huge-line", huge_line, absl::StatusCode::kResourceExhausted},
      {"/endless", endless, absl::StatusCode::kResourceExhausted},
      {"/empty", "", absl::StatusCode::kUnavailable},
      {"/head-cut", "HTTP/1.1 200 OK\r\nContent-Le", absl::StatusCode::kUnavailable},
      {"/garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", absl::StatusCode::kDataLoss},
  };
  std::vector<std::pair<std::string, std::string>> script;
  for (const Case& c : cases) script.emplace_back(c.path, c.bytes);
  auto server = ScriptServer::Start([script](const RawRequest& req) {
                  for (const auto& [path, bytes] : script) {
                    if (req.target == path) return Reply::Bytes(bytes, Reply::After::kClose);
                  }
                  return Reply::Ok("fine");
                }).value();
  auto reset = ScriptServer::Start([](const RawRequest&) {
                 return Reply::Bytes("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nab",
                                     Reply::After::kReset);
               }).value();
  Client client;
  for (const Case& c : cases) {
    absl::Status s = co_await FetchAll(client, server->Url(c.path));
    EXPECT_THAT(s, StatusIs(c.code, HasSubstr(c.path))) << c.path;
  }
  absl::Status rs = co_await FetchAll(client, reset->Url("/reset"));
  EXPECT_THAT(rs, StatusIs(absl::StatusCode::kUnavailable));
  // Nothing dirty went back to the pool, and the client still works.
  EXPECT_EQ(client.stats().idle_connections, 0);
  EXPECT_EQ(client.stats().active_connections, 0);
  absl::Status fine = co_await FetchAll(client, server->Url("/fine"));
  CORIO_CO_RETURN_IF_ERROR(fine);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, BrokenResponsesEndInClearStatuses) {
  CORIO_EXPECT_OK(RunTask(BrokenResponses()));
}

// ---- body: decoding, limits, streaming, modes ----

std::string Deflate(const std::string& in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Chunked(const std::string& body, size_t piece) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += piece) {
    std::string p = body.substr(i, piece);
    absl::StrAppend(&out, absl::Hex(p.size()), "\r\n", p, "\r\n");
  }
  return out + "0\r\n\r\n";
}

Task<absl::Status> DecodedBodies() {
  std::string text;
  for (int i = 0; i < 20000; ++i) absl::StrAppend(&text, "row ", i, "\n");
  const std::string gz = Deflate(text, 31);
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x5A;
  corrupt[corrupt.size() / 2 + 3] ^= 0x5A;
  auto server =
      ScriptServer::Start([&](const RawRequest& req) {
        if (req.target == "/gzip") return Reply::Ok(gz, 200, "Content-Encoding: gzip\r\n");
        if (req.target == "/zlib") {
          return Reply::Ok(Deflate(text, 15), 200, "Content-Encoding: deflate\r\n");
        }
        if (req.target == "/raw") {
          return Reply::Ok(Deflate(text, -15), 200, "Content-Encoding: deflate\r\n");
        }
        if (req.target == "/chunked-gzip") {
          return Reply::Bytes(
              absl::StrCat("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           Chunked(gz, 777)));
        }
        if (req.target == "/corrupt") {
          return Reply::Ok(corrupt, 200, "Content-Encoding: gzip\r\n");
        }
        if (req.target == "/truncated") {
          return Reply::Ok(gz.substr(0, gz.size() - 20), 200, "Content-Encoding: gzip\r\n");
        }
        if (req.target == "/br") return Reply::Ok("raw-br", 200, "Content-Encoding: br\r\n");
        if (req.target == "/empty-gzip") {
          return Reply::Ok("", 200, "Content-Encoding: gzip\r\n");
        }
        return Reply::Ok("?");
      }).value();
  Client client;
  for (const char* path : {"/gzip", "/zlib", "/raw", "/chunked-gzip"}) {
    absl::StatusOr<Response> r = co_await client.Get(server->Url(path));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    absl::StatusOr<std::string> t = co_await r->Text();
    CORIO_CO_RETURN_IF_ERROR(t.status());
    EXPECT_EQ(*t, text) << path;
    EXPECT_EQ(r->body_bytes(), text.size());
  }
  absl::Status corrupt_status = co_await FetchAll(client, server->Url("/corrupt"));
  EXPECT_THAT(corrupt_status, StatusIs(absl::StatusCode::kDataLoss));
  absl::Status trunc_status = co_await FetchAll(client, server->Url("/truncated"));
  EXPECT_THAT(trunc_status, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  absl::StatusOr<Response> br = co_await client.Get(server->Url("/br"));
  CORIO_CO_RETURN_IF_ERROR(br.status());
  absl::StatusOr<std::string> brt = co_await br->Text();
  EXPECT_EQ(brt.value_or(""), "raw-br");  // not decodable here: passed through as is
  absl::StatusOr<Response> eg = co_await client.Get(server->Url("/empty-gzip"));
  CORIO_CO_RETURN_IF_ERROR(eg.status());
  absl::StatusOr<std::string> egt = co_await eg->Text();
  CORIO_CO_RETURN_IF_ERROR(egt.status());
  EXPECT_EQ(*egt, "");
  co_return absl::OkStatus();
}

TEST_F(ClientTest, GzipAndDeflateBodiesAreDecodedAndCorruptOnesAreDataLoss) {
  CORIO_EXPECT_OK(RunTask(DecodedBodies()));
}

Task<absl::Status> GzipBomb() {
  // 10 MB of gzip that inflates to ~10 GB, made cheaply: after the first MiB of zeros, every
  // further MiB (sync-flushed) compresses to the same bytes, so repeat them. No trailer: the
  // guard must trip long before the end.
  std::string bomb;
  {
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
    std::string zeros(1 << 20, '\0');
    std::string out(1 << 20, '\0');
    std::string blocks[3];
    for (std::string& block : blocks) {
      zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
      zs.avail_in = zeros.size();
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = out.size();
      deflate(&zs, Z_SYNC_FLUSH);
      block.assign(out.data(), out.size() - zs.avail_out);
    }
    deflateEnd(&zs);
    EXPECT_EQ(blocks[1], blocks[2]);
    bomb = blocks[0];
    while (bomb.size() < 10'000'000) bomb += blocks[1];
  }
  auto server = ScriptServer::Start([&bomb](const RawRequest&) {
                  return Reply::Ok(bomb, 200, "Content-Encoding: gzip\r\n");
                }).value();
  Client client;
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/bomb"));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  std::vector<char> buf(64 * 1024);
  absl::Status end;
  for (;;) {
    absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      end = n.status();
      break;
    }
    if (*n == 0) break;
  }
  EXPECT_THAT(end, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("ratio")));
  // Refused after a bounded amount: the guard's threshold plus one buffer, not gigabytes.
  EXPECT_LE(r->body_bytes(), client.options().ratio_guard_after + buf.size());
  co_return absl::OkStatus();
}

TEST_F(ClientTest, GzipBombIsRefusedAfterABoundedAmount) { CORIO_EXPECT_OK(RunTask(GzipBomb())); }

Task<absl::Status> BodyLimits() {
  auto server =
      ScriptServer::Start([](const RawRequest& req) {
        if (req.target == "/chunked") {
          return Reply::Bytes(absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                           Chunked(std::string(5000, 'c'), 1000)));
        }
        return Reply::Ok(std::string(5000, 'x'));
      }).value();
  Client client;
  Request req;
  req.url = server->Url("/cl");
  req.max_body_bytes = 4096;
  absl::StatusOr<Response> r = co_await client.Send(std::move(req));
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("4096")));
  Request req2;
  req2.url = server->Url("/chunked");
  req2.max_body_bytes = 4096;
  absl::StatusOr<Response> r2 = co_await client.Send(std::move(req2));
  absl::Status chunked_status = r2.status();  // a small body arrives with the head: Send reads it
  if (r2.ok()) {
    absl::StatusOr<std::string> t2 = co_await r2->Text();
    chunked_status = t2.status();
  }
  EXPECT_THAT(chunked_status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("4096")));
  Request ok;
  ok.url = server->Url("/cl");
  ok.max_body_bytes = 5000;
  ok.body_mode = BodyMode::kBuffer;
  absl::StatusOr<Response> r3 = co_await client.Send(std::move(ok));
  CORIO_CO_RETURN_IF_ERROR(r3.status());
  EXPECT_EQ(r3->body().size(), 5000u);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, MaxBodyBytesIsResourceExhausted) { CORIO_EXPECT_OK(RunTask(BodyLimits())); }

Task<absl::Status> StreamingAndModes() {
  const std::string big(8 << 20, 'B');
  auto server =
      ScriptServer::Start([&big](const RawRequest& req) {
        if (req.target == "/chunked") {
          return Reply::Bytes(absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                           Chunked(big.substr(0, 100000), 3000)));
        }
        if (req.target == "/until-close") {
          return Reply::Bytes("HTTP/1.1 200 OK\r\n\r\nall of it", Reply::After::kClose);
        }
        if (req.target == "/head")
          return Reply::Bytes("HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n");
        if (req.target == "/interim") {
          return Reply::Bytes(
              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
        return Reply::Ok(big);
      }).value();
  Client client;
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/big"));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  std::vector<char> buf(4096);
  uint64_t total = 0;
  bool all_b = true;
  for (;;) {
    absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
    CORIO_CO_RETURN_IF_ERROR(n.status());
    if (*n == 0) break;
    for (size_t i = 0; i < *n; ++i) all_b &= buf[i] == 'B';
    total += *n;
  }
  EXPECT_EQ(total, big.size());
  EXPECT_TRUE(all_b);
  EXPECT_EQ(r->body_bytes(), big.size());
  EXPECT_EQ(client.stats().idle_connections, 1);

  Request discard;
  discard.url = server->Url("/chunked");
  discard.body_mode = BodyMode::kDiscard;
  absl::StatusOr<Response> d = co_await client.Send(std::move(discard));
  CORIO_CO_RETURN_IF_ERROR(d.status());
  EXPECT_EQ(d->body_bytes(), 100000u);
  EXPECT_TRUE(d->body().empty());
  EXPECT_TRUE(d->body_done());
  EXPECT_EQ(client.stats().active_connections, 0);

  Request until_close;
  until_close.url = server->Url("/until-close");
  until_close.body_mode = BodyMode::kBuffer;
  absl::StatusOr<Response> u = co_await client.Send(std::move(until_close));
  CORIO_CO_RETURN_IF_ERROR(u.status());
  EXPECT_EQ(u->body(), "all of it");

  Request head;
  head.method = "HEAD";
  head.url = server->Url("/head");
  absl::StatusOr<Response> h = co_await client.Send(std::move(head));
  CORIO_CO_RETURN_IF_ERROR(h.status());
  EXPECT_TRUE(h->body_done());
  EXPECT_EQ(h->content_length(), 999u);

  absl::StatusOr<Response> interim = co_await client.Get(server->Url("/interim"));
  CORIO_CO_RETURN_IF_ERROR(interim.status());
  EXPECT_EQ(interim->status(), 200);
  absl::StatusOr<std::string> it = co_await interim->Text();
  EXPECT_EQ(it.value_or(""), "ok");
  co_return absl::OkStatus();
}

TEST_F(ClientTest, StreamingReadsAndBodyModes) { CORIO_EXPECT_OK(RunTask(StreamingAndModes())); }

// ---- retries ----

Task<absl::Status> Retries() {
  int calls = 0;
  auto server = ScriptServer::Start([&calls](const RawRequest& req) {
                  ++calls;
                  if (req.target == "/flaky" && calls < 3) return Reply::Ok("busy", 503);
                  if (req.target == "/always") return Reply::Ok("down", 502);
                  if (req.target == "/after") {
                    return calls % 2 ? Reply::Ok("slow down", 429, "Retry-After: 7\r\n")
                                     : Reply::Ok("now ok");
                  }
                  return Reply::Ok("ok");
                }).value();
  ClientOptions options;
  options.retry.max_retries = 3;
  options.retry.initial_backoff = absl::Milliseconds(100);
  Client client(options);
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/flaky"));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->retries(), 2);
  EXPECT_EQ(calls, 3);

  calls = 0;
  absl::StatusOr<Response> a = co_await client.Get(server->Url("/always"));
  CORIO_CO_RETURN_IF_ERROR(a.status());  // retries ran out: the last response, not an error
  EXPECT_EQ(a->status(), 502);
  absl::StatusOr<std::string> at = co_await a->Text();
  EXPECT_EQ(at.value_or(""), "down");
  EXPECT_EQ(calls, 4);

  calls = 0;
  const absl::Time start = EventLoop::Current()->Now();
  absl::StatusOr<Response> ra = co_await client.Get(server->Url("/after"));
  CORIO_CO_RETURN_IF_ERROR(ra.status());
  EXPECT_EQ(ra->status(), 200);
  EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(7));

  calls = 0;
  absl::StatusOr<Response> post = co_await client.Post(server->Url("/always"), "x");
  CORIO_CO_RETURN_IF_ERROR(post.status());
  EXPECT_EQ(post->status(), 502);
  EXPECT_EQ(calls, 1);  // POST is not retried

  // Connection errors: a port nobody listens on.
  const uint16_t dead_port = [] {
    auto l = TcpListener::Bind(SocketAddress::Loopback4(0)).value();
    return l.local_address().port();
  }();
  const uint64_t before = client.stats().retries;
  absl::StatusOr<Response> refused =
      co_await client.Get(absl::StrCat("http://127.0.0.1:", dead_port, "/"));
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refused")));
  EXPECT_EQ(client.stats().retries - before, 3u);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, RetriesWithBackoffRetryAfterAndLastResponse) {
  CORIO_EXPECT_OK(RunTask(Retries()));
}

Task<absl::Status> RetriesOffByDefault() {
  int calls = 0;
  auto server = ScriptServer::Start([&calls](const RawRequest&) {
                  ++calls;
                  return Reply::Ok("busy", 503);
                }).value();
  Client client;
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(r.status());
  EXPECT_EQ(r->status(), 503);
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(r->RaiseForStatus(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("503")));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, RetriesAreOffByDefault) { CORIO_EXPECT_OK(RunTask(RetriesOffByDefault())); }

// ---- address filter ----

Task<absl::Status> AddressFilter() {
  auto target = ScriptServer::Start([](const RawRequest&) { return Reply::Ok("secret"); }).value();
  const std::string to_target = target->Url("/");
  auto server = ScriptServer::Start([to_target](const RawRequest&) {
                  return Reply::Ok("", 302, absl::StrCat("Location: ", to_target, "\r\n"));
                }).value();
  const uint16_t blocked_port = target->port();
  ClientOptions options;
  int calls = 0;
  options.address_filter = [blocked_port, &calls](const SocketAddress& a) {
    ++calls;
    if (a.port() == blocked_port) {
      return absl::PermissionDeniedError(absl::StrCat("address ", a.ToString(), " is not allowed"));
    }
    return absl::OkStatus();
  };
  Client client(options);
  absl::StatusOr<Response> direct = co_await client.Get(to_target);
  EXPECT_THAT(direct.status(), StatusIs(absl::StatusCode::kPermissionDenied,
                                        HasSubstr(absl::StrCat("127.0.0.1:", blocked_port))));
  absl::StatusOr<Response> via = co_await client.Get(server->Url("/go"));
  EXPECT_THAT(via.status(), StatusIs(absl::StatusCode::kPermissionDenied,
                                     HasSubstr(absl::StrCat("127.0.0.1:", blocked_port))));
  EXPECT_EQ(target->requests(), 0);
  EXPECT_EQ(calls, 3);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, AddressFilterAppliesToEveryConnectionIncludingRedirects) {
  CORIO_EXPECT_OK(RunTask(AddressFilter()));
}

// ---- many failures: nothing grows ----

Task<absl::Status> TenThousandFailures() {
  const uint16_t dead_port = [] {
    auto l = TcpListener::Bind(SocketAddress::Loopback4(0)).value();
    return l.local_address().port();
  }();
  auto server = ScriptServer::Start([](const RawRequest& req) {
                  return Reply::Bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
                                      Reply::After::kClose);
                }).value();
  Client client;
  const std::string refused = absl::StrCat("http://127.0.0.1:", dead_port, "/");
  int fds_at_100 = 0;
  int failed = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string url = i % 2 ? refused : server->Url("/trunc");  // GCC 12: no temporaries here
    absl::Status s = co_await FetchAll(client, std::move(url));
    if (!s.ok()) ++failed;
    if (i == 100) fds_at_100 = corio::testing::OpenFdCount();
  }
  EXPECT_EQ(failed, 10000);
  EXPECT_EQ(client.stats().failures, 5000u);  // Send failed for the refused half
  EXPECT_LE(corio::testing::OpenFdCount(), fds_at_100);
  EXPECT_EQ(client.stats().active_connections, 0);
  EXPECT_EQ(client.stats().idle_connections, 0);
  co_return absl::OkStatus();
}

TEST_F(ClientTest, TenThousandFailedRequestsLeakNothing) {
  CORIO_EXPECT_OK(RunTask(TenThousandFailures()));
}

// ---- TLS ----

Task<absl::Status> TlsRequests() {
  auto certs = corio::testing::TlsCerts::Create().value();
  auto make_server = [&certs](const CertAndKey& ck) {
    tls::ServerOptions so;
    so.cert_pem = ck.cert_pem;
    so.key_pem = ck.key_pem;
    auto ctx = tls::TlsContext::CreateServer(so).value();
    return ScriptServer::Start(
               [](const RawRequest& req) { return Reply::Ok("secure " + req.target); }, ctx)
        .value();
  };
  auto good = make_server(certs.server());
  auto self_signed = make_server(certs.self_signed());
  auto wrong_name = make_server(certs.wrong_name());
  auto expired = make_server(certs.expired());

  ClientOptions trusting;
  trusting.tls.ca_file = certs.ca_file();
  Client client(trusting);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(good->Url("/x"));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), "secure /x");
  }
  EXPECT_EQ(good->connections(), 1);  // kept alive over TLS too
  for (ScriptServer* bad : {self_signed.get(), wrong_name.get(), expired.get()}) {
    absl::StatusOr<Response> r = co_await client.Get(bad->Url("/"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("127.0.0.1")));
  }
  // The system store does not know the test CA; `insecure` skips verification.
  Client system_store;
  absl::StatusOr<Response> unknown_ca = co_await system_store.Get(good->Url("/"));
  EXPECT_THAT(unknown_ca.status(), StatusIs(absl::StatusCode::kUnauthenticated));
  ClientOptions insecure;
  insecure.tls.insecure = true;
  Client insecure_client(insecure);
  absl::StatusOr<Response> ok = co_await insecure_client.Get(self_signed->Url("/"));
  CORIO_CO_RETURN_IF_ERROR(ok.status());
  EXPECT_EQ(ok->status(), 200);
  ClientOptions bad_ca;
  bad_ca.tls.ca_file = "/nonexistent/ca.pem";
  Client bad_ca_client(bad_ca);
  absl::StatusOr<Response> no_ca = co_await bad_ca_client.Get(good->Url("/"));
  EXPECT_THAT(no_ca.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  co_return absl::OkStatus();
}

TEST_F(ClientTest, HttpsVerifiesCertificatesAndKeepsConnectionsAlive) {
  CORIO_EXPECT_OK(RunTask(TlsRequests()));
}

Task<absl::Status> TlsProtocolMismatch() {
  // TLS to a plain port: the server answers the ClientHello with a plain 400, as nginx does.
  corio::testing::FakeTcpServer::Options plain_options;
  plain_options.behavior = corio::testing::FakeTcpServer::Behavior::kGreetThenClose;
  plain_options.greeting = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  auto plain = corio::testing::FakeTcpServer::Start(plain_options).value();
  ClientOptions options;
  options.tls.insecure = true;
  Client client(options);
  absl::StatusOr<Response> r1 =
      co_await client.Get(absl::StrCat("https://127.0.0.1:", plain->address().port(), "/"));
  EXPECT_THAT(r1.status(), StatusIs(absl::StatusCode::kUnavailable));
  // Plain HTTP to a TLS port: the TLS server cannot parse the request and hangs up.
  auto certs = corio::testing::TlsCerts::Create().value();
  tls::ServerOptions so;
  so.cert_pem = certs.server().cert_pem;
  so.key_pem = certs.server().key_pem;
  auto tls_server = ScriptServer::Start([](const RawRequest&) { return Reply::Ok("x"); },
                                        tls::TlsContext::CreateServer(so).value())
                        .value();
  Request req;
  req.url = absl::StrCat("http://127.0.0.1:", tls_server->port(), "/");
  req.timeout = absl::Seconds(10);
  absl::StatusOr<Response> r2 = co_await client.Send(std::move(req));
  EXPECT_FALSE(r2.ok());
  EXPECT_TRUE(absl::IsUnavailable(r2.status()) || absl::IsDataLoss(r2.status())) << r2.status();
  co_return absl::OkStatus();
}

TEST_F(ClientTest, TlsToAPlainPortAndPlainToATlsPortFailClearly) {
  CORIO_EXPECT_OK(RunTask(TlsProtocolMismatch()));
}

}  // namespace
}  // namespace corio::http
