// The fetch service end to end with its real backend: a gRPC client, FetchServer with
// HttpBackend, the fake HTTP server (and the fake DNS server) on loopback. The address policy
// as a remote client sees it, and fetches cancelled by the client release their connections
// (counted at the HTTP server).
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/http_backend.h"
#include "net/fetch/server.h"
#include "testing/dns_server.h"
#include "testing/http_server.h"

namespace corio::fetch {
namespace {

using ::corio::testing::FakeDnsServer;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;

// A FakeDnsServer on a loop thread of its own.
class BackgroundDns {
 public:
  BackgroundDns() : group_(*LoopGroup::Create(LoopGroup::Options{.threads = 1})) {
    std::promise<void> ready;
    group_->Post([&] {
      dns_ = *FakeDnsServer::Start();
      ready.set_value();
    });
    ready.get_future().wait();
  }
  ~BackgroundDns() {
    std::promise<void> done;
    group_->Post([&] {
      dns_.reset();
      done.set_value();
    });
    done.get_future().wait();
    group_->Shutdown();
  }
  // Runs `f` with the server on its loop.
  void Do(std::function<void(FakeDnsServer&)> f) {
    std::promise<void> done;
    group_->Post([&] {
      f(*dns_);
      done.set_value();
    });
    done.get_future().wait();
  }
  SocketAddress address() {
    SocketAddress a;
    Do([&](FakeDnsServer& d) { a = d.address(); });
    return a;
  }

 private:
  std::unique_ptr<LoopGroup> group_;
  std::unique_ptr<FakeDnsServer> dns_;
};

class ServerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_ = *FakeHttpServer::StartInBackground();
    http_->Route("/ok", HttpResponse::Text(200, "fine"));
    http_->Route("/missing", HttpResponse::Text(404, "no"));
    http_->Route("/stall", HttpResponse::Stall());
    http_->Route("/to-metadata",
                 HttpResponse::Redirect(302, "http://169.254.169.254/latest/meta-data/"));
    http_->Route("/to-loopback",
                 HttpResponse::Redirect(302, "http://127.0.0.1:" +
                                                 std::to_string(http_->port()) + "/ok"));
  }

  void Start(AddressPolicy::Options policy) {
    HttpBackendOptions b;
    b.policy = AddressPolicy(policy);
    dns::ResolverOptions ro;
    ro.servers = {dns_.address()};
    ro.use_hosts_file = false;
    b.resolver_options = ro;
    FetchServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.threads = 2;
    o.backend = HttpBackendFactory(b);
    server_ = *FetchServer::Start(std::move(o));
    stub_ = v1::FetchService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Fetch(const std::string& url, v1::FetchResponse* out) {
    grpc::ClientContext ctx;
    v1::FetchRequest req;
    req.set_url(url);
    return stub_->Fetch(&ctx, req, out);
  }

  BackgroundDns dns_;
  std::unique_ptr<FakeHttpServer> http_;
  std::unique_ptr<FetchServer> server_;
  std::unique_ptr<v1::FetchService::Stub> stub_;
};

TEST_F(ServerHttpTest, FetchesWhenThePolicyAllows) {
  Start({.allow_private_networks = true});
  v1::FetchResponse r;
  grpc::Status s = Fetch(http_->url("/ok"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "fine");
  s = Fetch(http_->url("/missing"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.status(), 404);  // a response, not an error
}

TEST_F(ServerHttpTest, DefaultPolicyRefusesLoopbackPrivateLinkLocalAndMapped) {
  Start({});
  v1::FetchResponse r;
  grpc::Status s = Fetch(http_->url("/ok"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("address " + http_->authority() + " refused"));
  s = Fetch("http://[::ffff:127.0.0.1]:" + std::to_string(http_->port()) + "/ok", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("IPv4-mapped"));
  s = Fetch("http://192.168.1.1/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("address 192.168.1.1:80 refused by policy: private"));
  s = Fetch("http://169.254.169.254/latest/meta-data/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("169.254.169.254:80 refused by policy: link-local"));
  EXPECT_EQ(http_->stats().connections_accepted, 0);
}

TEST_F(ServerHttpTest, RedirectsAndDnsAnswersAreChecked) {
  // 127.0.0.1 stands in for a public origin; its redirects and DNS names are not trusted.
  Start({.allow = {*Cidr::Parse("127.0.0.1/32")}});
  dns_.Do([](FakeDnsServer& d) {
    d.AddA("public-looking.test", "10.20.30.40");
    d.AddA("rebinding.test", "127.0.0.2");
  });
  v1::FetchResponse r;
  grpc::Status s = Fetch(http_->url("/to-metadata"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("address 169.254.169.254:80 refused"));
  s = Fetch("http://public-looking.test/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("address 10.20.30.40:80 refused by policy: private"));
  s = Fetch("http://rebinding.test:" + std::to_string(http_->port()) + "/ok", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("127.0.0.2:" + std::to_string(http_->port()) +
                                           " refused by policy: loopback"));
  // The allowed origin itself works, and a redirect back to it too.
  s = Fetch(http_->url("/to-loopback"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.body(), "fine");
}

TEST_F(ServerHttpTest, ARedirectToLoopbackIsRefused) {
  // The origin (a name the fake DNS serves as 127.0.0.3, allowed) redirects to 127.0.0.1.
  Start({.allow = {*Cidr::Parse("127.0.0.3/32")}});
  dns_.Do([](FakeDnsServer& d) { d.AddA("origin.test", "127.0.0.3"); });
  auto origin = *FakeHttpServer::StartInBackground(FakeHttpServer::Options{.host = "127.0.0.3"});
  origin->Route("/go", HttpResponse::Redirect(302, http_->url("/ok")));
  v1::FetchManyRequest m;
  m.add_requests()->set_url("http://origin.test:" + std::to_string(origin->port()) + "/go");
  grpc::ClientContext ctx;
  auto reader = stub_->FetchMany(&ctx, m);
  v1::FetchResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(r.error().message(),
              HasSubstr("address " + http_->authority() + " refused by policy: loopback"));
  EXPECT_FALSE(reader->Read(&r));
  EXPECT_TRUE(reader->Finish().ok());  // a per-item error, not a failed stream
  EXPECT_EQ(origin->requests("/go"), 1);
  EXPECT_EQ(http_->stats().connections_accepted, 0);
}

TEST_F(ServerHttpTest, ClientCancelMidStreamClosesTheConnections) {
  Start({.allow_private_networks = true});
  // The first result comes from another server (its connection then idles in the pool).
  auto other = *FakeHttpServer::StartInBackground();
  other->Route("/ok", HttpResponse::Text(200, "fine"));
  v1::FetchManyRequest m;
  m.add_requests()->set_url(other->url("/ok"));
  for (int i = 0; i < 3; ++i) {
    v1::FetchRequest* stall = m.add_requests();
    stall->set_url(http_->url("/stall"));
    stall->mutable_timeout()->set_seconds(300);  // only the cancel can end these soon
  }
  m.set_max_concurrency(4);
  grpc::ClientContext ctx;
  auto reader = stub_->FetchMany(&ctx, m);
  v1::FetchResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.body(), "fine");
  ASSERT_TRUE(http_->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight == 3; }));
  ctx.TryCancel();
  while (reader->Read(&r)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(http_->WaitUntil(
      [](const FakeHttpServer::Stats& s) {
        return s.connections_accepted == 3 && s.connections_open == 0;
      },
      absl::Seconds(20)))
      << "open: " << http_->stats().connections_open;
  EXPECT_TRUE(server_->dispatcher().WaitForIdle(absl::Seconds(30)));
}

TEST_F(ServerHttpTest, ClientDeadlineClosesTheConnection) {
  Start({.allow_private_networks = true});
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v1::FetchRequest req;
  req.set_url(http_->url("/stall"));
  v1::FetchResponse r;
  EXPECT_EQ(stub_->Fetch(&ctx, req, &r).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(http_->WaitUntil([](const FakeHttpServer::Stats& s) {
    return s.connections_accepted == 1 && s.connections_open == 0;
  })) << "open: " << http_->stats().connections_open;
  EXPECT_TRUE(server_->dispatcher().WaitForIdle(absl::Seconds(30)));
}

}  // namespace
}  // namespace corio::fetch
