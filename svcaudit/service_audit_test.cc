// Regression tests from the fetch service audit (they pass): contract lines
// that the service's own tests did not pin down, seen from a real gRPC client
// against a real FetchServer on loopback. The bound on concurrent fetches
// exactly at its edge; per-item errors in FetchMany; a client that hangs up
// mid-stream gets its fetches cancelled and their slots back; the CIDR
// allow-list is exact (redirect hops and IPv6 embeddings of an allowed address
// included).
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/duration.pb.h"
#include "grpcpp/grpcpp.h"
#include "net/fetch/address_policy.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/health.grpc.pb.h"
#include "net/fetch/http_backend.h"
#include "net/fetch/server.h"
#include "svcaudit/audit_fixtures.h"
#include "svcaudit/service_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::svcaudit {
namespace {

using ::testing::HasSubstr;

class ServiceAudit : public ServiceFixture {};

TEST_F(ServiceAudit, TheBoundIsExact) {
  fetch::FetchServerOptions o;
  o.max_concurrent_fetches = 3;
  Start(std::move(o));
  std::vector<std::thread> calls;
  for (int i = 0; i < 3; ++i) {
    calls.emplace_back([&] {
      fetch::v1::FetchResponse r;
      grpc::Status s = Fetch("http://gate.test/", &r);
      EXPECT_TRUE(s.ok()) << s.error_message();
    });
  }
  ASSERT_TRUE(
      gate_->WaitForWaiting(3)); // exactly at the bound: all three admitted

  fetch::v1::FetchResponse r;
  grpc::Status s = Fetch("http://ok.test/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("3"));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    fetch::v1::FetchManyRequest m;
    m.add_requests()->set_url("http://ok.test/");
    auto reader = stub_->FetchMany(&ctx, m);
    while (reader->Read(&r)) {
    }
    EXPECT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // Overload is not ill health.
  grpc::ClientContext hctx;
  hctx.set_deadline(In(10));
  grpc::health::v1::HealthCheckResponse h;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel_)
                  ->Check(&hctx, grpc::health::v1::HealthCheckRequest(), &h)
                  .ok());
  EXPECT_EQ(h.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  gate_->Open();
  for (std::thread &t : calls)
    t.join();
  ASSERT_TRUE(gate_->WaitForIdle());
  ASSERT_TRUE(server_->dispatcher().WaitForIdle(absl::Seconds(30)));
  s = Fetch("http://ok.test/", &r); // the slots came back
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ServiceAudit, FetchManyMalformedItemsAreItemErrorsNotAFailedStream) {
  Start({});
  fetch::v1::FetchManyRequest m;
  m.add_requests()->set_url("http://ok.test/0");
  m.add_requests()->set_url("bogus");
  fetch::v1::FetchRequest *lower = m.add_requests();
  lower->set_url("http://ok.test/2");
  lower->set_method("get");
  fetch::v1::FetchRequest *negative = m.add_requests();
  negative->set_url("http://ok.test/3");
  negative->mutable_timeout()->set_seconds(-1);
  fetch::v1::FetchRequest *crlf = m.add_requests();
  crlf->set_url("http://ok.test/4");
  fetch::v1::Header *h = crlf->add_headers();
  h->set_name("X-Evil");
  h->set_value("a\r\nInjected: 1");
  fetch::v1::FetchRequest *mode = m.add_requests();
  mode->set_url("http://ok.test/5");
  mode->set_body_mode(static_cast<fetch::v1::BodyMode>(9));
  m.add_requests()->set_url("http://ok.test/6");

  grpc::ClientContext ctx;
  ctx.set_deadline(In(30));
  auto reader = stub_->FetchMany(&ctx, m);
  fetch::v1::FetchResponse r;
  std::set<int> seen;
  while (reader->Read(&r)) {
    EXPECT_TRUE(seen.insert(r.index()).second)
        << "index " << r.index() << " twice";
    const bool ok_item = r.index() == 0 || r.index() == 6;
    if (ok_item) {
      EXPECT_FALSE(r.has_error()) << r.index() << ": " << r.error().message();
      EXPECT_EQ(r.status(), 200);
    } else {
      EXPECT_EQ(r.error().code(),
                static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))
          << r.index() << ": " << r.error().message();
      EXPECT_FALSE(r.error().message().empty());
    }
  }
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seen.size(), 7u);
}

TEST_F(ServiceAudit,
       AClientThatHangsUpMidStreamGetsItsFetchesCancelledAndSlotsBack) {
  fetch::FetchServerOptions o;
  o.max_concurrent_fetches = 2;
  Start(std::move(o));
  {
    grpc::ClientContext ctx;
    fetch::v1::FetchManyRequest m;
    m.add_requests()->set_url("http://ok.test/");
    m.add_requests()->set_url("http://gate.test/1");
    m.add_requests()->set_url("http://gate.test/2");
    auto reader = stub_->FetchMany(&ctx, m);
    fetch::v1::FetchResponse r;
    ASSERT_TRUE(reader->Read(&r));
    EXPECT_EQ(r.index(), 0);
    ASSERT_TRUE(gate_->WaitForWaiting(2));
    ctx.TryCancel();
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  ASSERT_TRUE(gate_->WaitForIdle());
  EXPECT_EQ(gate_->cancelled(), 2);
  // The backend's fetches ended; their slots come back just after (on their loops).
  ASSERT_TRUE(server_->dispatcher().WaitForIdle(absl::Seconds(30)));
  // Both slots are free again: two more fetches are admitted at once.
  std::vector<std::thread> calls;
  for (int i = 0; i < 2; ++i) {
    calls.emplace_back([&] {
      fetch::v1::FetchResponse r;
      grpc::Status s = Fetch("http://gate.test/", &r);
      EXPECT_TRUE(s.ok()) << s.error_message();
    });
  }
  ASSERT_TRUE(gate_->WaitForWaiting(2));
  gate_->Open();
  for (std::thread &t : calls)
    t.join();
}

// --allow_cidr=127.0.0.1/32 trusts that one address: a redirect to another
// loopback address, and IPv6 forms embedding the trusted address (NAT64, 6to4,
// IPv4-compatible), stay refused, each with PERMISSION_DENIED naming the
// address; nothing else is dialled.
TEST_F(ServiceAudit, TheAllowListIsExactOnRedirectsAndEmbeddings) {
  RawHttpPeer peer(""); // the port first; the redirect names it
  const std::string elsewhere =
      "http://127.0.0.2:" + std::to_string(peer.port()) + "/";
  RawHttpPeer redirector("HTTP/1.1 302 Found\r\nLocation: " + elsewhere +
                         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  fetch::HttpBackendOptions b;
  b.policy =
      fetch::AddressPolicy({.allow = {*fetch::Cidr::Parse("127.0.0.1/32")}});
  fetch::FetchServerOptions o;
  o.backend = fetch::HttpBackendFactory(b);
  Start(std::move(o));

  fetch::v1::FetchResponse r;
  grpc::Status s = Fetch(redirector.url("/"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << s.error_message();
  EXPECT_THAT(s.error_message(),
              HasSubstr("address 127.0.0.2:" + std::to_string(peer.port()) +
                        " refused"));
  EXPECT_EQ(redirector.connections(), 1);

  const std::string port = std::to_string(peer.port());
  for (const std::string host :
       {"[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[::127.0.0.1]"}) {
    s = Fetch("http://" + host + ":" + port + "/", &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << host;
    EXPECT_THAT(s.error_message(), HasSubstr("refused by policy")) << host;
  }
  EXPECT_EQ(peer.connections(), 0);
}

} // namespace
} // namespace corio::svcaudit
