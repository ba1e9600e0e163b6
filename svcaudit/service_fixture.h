// Test-only: the fixture the fetch service audit's tests share — a real FetchServer on
// loopback (two loops, the gated backend unless the test gives another) and a real gRPC
// client to it.
//
//   class MyAudit : public corio::svcaudit::ServiceFixture {};
//   TEST_F(MyAudit, X) {
//     Start({});                                    // or Start(options)
//     corio::fetch::v1::FetchResponse r;
//     grpc::Status s = Fetch("http://ok.test/", &r);
//   }
//
// Threading: the test's thread; Fetch() may also be called from threads the test starts.
#ifndef CORIO_SVCAUDIT_SERVICE_FIXTURE_H_
#define CORIO_SVCAUDIT_SERVICE_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/server.h"
#include "svcaudit/audit_fixtures.h"

namespace corio::svcaudit {

// A deadline `seconds` from now, for a grpc::ClientContext.
inline std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class ServiceFixture : public ::testing::Test {
 protected:
  void Start(fetch::FetchServerOptions o) {
    o.listen_address = "127.0.0.1:0";
    o.threads = 2;
    if (!o.backend) o.backend = GatedBackendFactory(gate_);
    absl::StatusOr<std::unique_ptr<fetch::FetchServer>> s =
        fetch::FetchServer::Start(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = fetch::v1::FetchService::NewStub(channel_);
  }

  // A unary Fetch of `url` (30 s deadline), with an `authorization` header when not empty.
  grpc::Status Fetch(const std::string& url, fetch::v1::FetchResponse* out,
                     const std::string& authorization = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    fetch::v1::FetchRequest req;
    req.set_url(url);
    return stub_->Fetch(&ctx, req, out);
  }

  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::unique_ptr<fetch::FetchServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<fetch::v1::FetchService::Stub> stub_;
};

}  // namespace corio::svcaudit

#endif  // CORIO_SVCAUDIT_SERVICE_FIXTURE_H_
