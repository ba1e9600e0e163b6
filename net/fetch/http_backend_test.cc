// HttpBackend against the fake HTTP and DNS servers on loopback, on virtual time: the address
// policy on every connection (redirects, DNS answers, IPv4-mapped literals), limits, body
// modes, timeouts, cancellation.
#include "net/fetch/http_backend.h"

#include <memory>
#include <string>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/proto_time.h"
#include "tasks/spawn.h"
#include "tasks/sleep.h"
#include "testing/dns_server.h"
#include "testing/http_server.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::FakeDnsServer;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;
using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

HttpBackendOptions Loose() {
  HttpBackendOptions o;
  AddressPolicy::Options p;
  p.allow_private_networks = true;
  o.policy = AddressPolicy(p);
  return o;
}

HttpBackendOptions AllowOnly(const std::string& cidr) {
  HttpBackendOptions o;
  AddressPolicy::Options p;
  p.allow = {*Cidr::Parse(cidr)};
  o.policy = AddressPolicy(p);
  return o;
}

v1::FetchRequest Req(const std::string& url) {
  v1::FetchRequest r;
  r.set_url(url);
  return r;
}

// Runs one fetch with a backend made on the current loop.
Task<absl::Status> FetchWith(HttpBackendOptions options, v1::FetchRequest req,
                             v1::FetchResponse* out,
                             absl::Time deadline = absl::InfiniteFuture()) {
  absl::StatusOr<std::unique_ptr<FetchBackend>> b =
      HttpBackendFactory(std::move(options))(*EventLoop::Current());
  if (!b.ok()) co_return b.status();
  absl::Status s = co_await (*b)->Fetch(req, deadline, *out);
  co_return s;
}

TEST(HttpBackendTest, FetchesAndFillsTheResponse) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/start", HttpResponse::Redirect(302, "/final"));
    server->Route("/final",
                  HttpResponse::Text(201, "hello body").WithHeader("X-Odd", "a, b: c"));
    v1::FetchRequest req = Req(server->url("/start"));
    auto* h = req.add_headers();
    h->set_name("X-Client");
    h->set_value("yes");
    v1::FetchResponse out;
    CORIO_CO_RETURN_IF_ERROR(co_await FetchWith(Loose(), req, &out));
    EXPECT_EQ(out.status(), 201);
    EXPECT_EQ(out.body(), "hello body");
    EXPECT_EQ(out.body_size(), 10);
    EXPECT_EQ(out.final_url(), server->url("/final"));
    EXPECT_EQ(out.redirects_size(), 1);
    EXPECT_EQ(out.redirects(0).status(), 302);
    EXPECT_EQ(out.redirects(0).url(), server->url("/start"));
    EXPECT_EQ(out.redirects(0).location(), server->url("/final"));
    bool found = false;
    for (const auto& oh : out.headers()) found = found || (oh.name() == "X-Odd" && oh.value() == "a, b: c");
    EXPECT_TRUE(found);
    EXPECT_TRUE(out.timing().has_headers());
    EXPECT_TRUE(out.timing().has_total());
    EXPECT_EQ(server->received_requests().back().headers.size() > 0, true);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, StrictPolicyRefusesLoopbackWithoutConnecting) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/", HttpResponse::Text(200, "secret"));
    v1::FetchResponse out;
    absl::Status s = co_await FetchWith(HttpBackendOptions(), Req(server->url("/")), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address " + server->authority() + " refused")));
    EXPECT_THAT(s.message(), HasSubstr("loopback"));
    EXPECT_EQ(server->stats().connections_accepted, 0);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, RefusesIpv4MappedIpv6Literals) {
  auto body = [&]() -> Task<absl::Status> {
    v1::FetchResponse out;
    absl::Status s =
        co_await FetchWith(HttpBackendOptions(), Req("http://[::ffff:127.0.0.1]:9/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("[::ffff:127.0.0.1]:9 refused by policy: IPv4-mapped")));
    s = co_await FetchWith(HttpBackendOptions(), Req("http://[::ffff:a9fe:a9fe]/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("link-local")));
    s = co_await FetchWith(HttpBackendOptions(), Req("http://10.1.2.3:9/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 10.1.2.3:9 refused by policy: private")));
    s = co_await FetchWith(HttpBackendOptions(), Req("http://169.254.169.254/latest/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 169.254.169.254:80 refused")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, RedirectHopsAreCheckedToo) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    // 127.0.0.1 is allowed (the "public" origin here); what it redirects to is not.
    server->Route("/to-metadata",
                  HttpResponse::Redirect(302, "http://169.254.169.254/latest/meta-data/"));
    server->Route("/to-loopback", HttpResponse::Redirect(307, "http://127.0.0.2:" +
                                                                  std::to_string(server->port()) +
                                                                  "/"));
    v1::FetchResponse out;
    absl::Status s =
        co_await FetchWith(AllowOnly("127.0.0.1/32"), Req(server->url("/to-metadata")), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 169.254.169.254:80 refused")));
    s = co_await FetchWith(AllowOnly("127.0.0.1/32"), Req(server->url("/to-loopback")), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 127.0.0.2:" + std::to_string(server->port()) +
                                      " refused by policy: loopback")));
    EXPECT_EQ(server->stats().requests, 2);  // only the first hops reached a server
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, NamesAreCheckedOnTheirResolvedAddresses) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, FakeDnsServer::Start());
    dns->AddA("rebind.test", "127.0.0.1");
    dns->AddA("internal.test", "10.0.0.7");
    dns->AddAAAA("ula.test", "fd00::7");
    HttpBackendOptions o;
    dns::ResolverOptions ro;
    ro.servers = {dns->address()};
    ro.use_hosts_file = false;
    o.resolver_options = ro;
    v1::FetchResponse out;
    absl::Status s = co_await FetchWith(o, Req("http://rebind.test:8080/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 127.0.0.1:8080 refused by policy: loopback")));
    s = co_await FetchWith(o, Req("http://internal.test/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("address 10.0.0.7:80 refused by policy: private")));
    s = co_await FetchWith(o, Req("http://ula.test/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("[fd00::7]:80 refused by policy: unique local")));
    s = co_await FetchWith(o, Req("http://nope.test/"), &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, LimitsBodiesAndRedirects) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/big", HttpResponse::Text(200, std::string(1000, 'x')));
    server->Route("/r1", HttpResponse::Redirect(302, "/r2"));
    server->Route("/r2", HttpResponse::Redirect(302, "/r3"));
    server->Route("/r3", HttpResponse::Text(200, "end"));
    v1::FetchResponse out;
    v1::FetchRequest req = Req(server->url("/big"));
    req.set_max_body_bytes(100);
    absl::Status s = co_await FetchWith(Loose(), req, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));

    HttpBackendOptions small = Loose();
    small.max_body_bytes = 100;  // the server's cap wins over a larger request
    req.set_max_body_bytes(5000);
    out.Clear();
    s = co_await FetchWith(small, req, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));

    req = Req(server->url("/big"));
    req.set_body_mode(v1::BODY_MODE_SIZE_ONLY);
    out.Clear();
    CORIO_CO_RETURN_IF_ERROR(co_await FetchWith(Loose(), req, &out));
    EXPECT_EQ(out.body_size(), 1000);
    EXPECT_TRUE(out.body().empty());

    req = Req(server->url("/r1"));
    req.set_max_redirects(0);
    out.Clear();
    CORIO_CO_RETURN_IF_ERROR(co_await FetchWith(Loose(), req, &out));
    EXPECT_EQ(out.status(), 302);  // not followed: the 3xx is the response
    req.set_max_redirects(1);
    out.Clear();
    s = co_await FetchWith(Loose(), req, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("redirects")));
    req.set_max_redirects(2);
    out.Clear();
    CORIO_CO_RETURN_IF_ERROR(co_await FetchWith(Loose(), req, &out));
    EXPECT_EQ(out.body(), "end");
    EXPECT_EQ(out.redirects_size(), 2);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, TimeoutAndDeadline) {
  auto body = [&]() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/stall", HttpResponse::Stall());
    v1::FetchRequest req = Req(server->url("/stall"));
    *req.mutable_timeout() = ToProtoDuration(absl::Seconds(2));
    v1::FetchResponse out;
    absl::Status s = co_await FetchWith(Loose(), req, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded));
    // The call's deadline bounds a longer timeout.
    *req.mutable_timeout() = ToProtoDuration(absl::Hours(1));
    const absl::Time start = EventLoop::Current()->Now();
    s = co_await FetchWith(Loose(), req, &out, start + absl::Seconds(3));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_LT(EventLoop::Current()->Now() - start, absl::Minutes(1));
    // A deadline already past.
    s = co_await FetchWith(Loose(), req, &out, EventLoop::Current()->Now() - absl::Seconds(1));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(body()), IsOk());
}

TEST(HttpBackendTest, CancellationClosesTheConnection) {
  auto server = *FakeHttpServer::StartInBackground();
  server->Route("/stall", HttpResponse::Stall());
  auto body = [&]() -> Task<absl::Status> {
    v1::FetchResponse out;
    JoinHandle<absl::Status> h = Spawn(FetchWith(Loose(), Req(server->url("/stall")), &out));
    // Virtual time: wait (in loop turns) until the server holds the request.
    for (int i = 0; i < 100000 && server->stats().in_flight == 0; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(1)));
    }
    EXPECT_EQ(server->stats().connections_open, 1);
    h.Cancel();
    absl::Status s = co_await std::move(h);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::testing::RunTaskRealTime(body()), IsOk());
  EXPECT_TRUE(server->WaitUntil([](const FakeHttpServer::Stats& st) {
    return st.connections_open == 0;
  }));
}

}  // namespace
}  // namespace corio::fetch
