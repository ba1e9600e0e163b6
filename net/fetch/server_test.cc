// FetchServer end to end on loopback: health, reflection, graceful shutdown, option errors.
#include "net/fetch/server.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/health.grpc.pb.h"
#include "net/fetch/testing/scripted_backend.h"
#include "testing/status_matchers.h"
#include "testing/tls_certs.h"

namespace corio::fetch {
namespace {

using ::corio::testing::StatusIs;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;
using ::testing::HasSubstr;

class ServerTest : public ::testing::Test {
 protected:
  void Start(FetchServerOptions o = {}) {
    stats_ = std::make_shared<testing::ScriptedStats>();
    o.listen_address = "127.0.0.1:0";
    o.threads = 2;
    o.backend = testing::ScriptedBackendFactory(stats_);
    absl::StatusOr<std::unique_ptr<FetchServer>> s = FetchServer::Start(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::FetchService::NewStub(channel_);
  }

  grpc::Status Health(HealthCheckResponse* out, const std::string& service = "") {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckRequest req;
    req.set_service(service);
    return health->Check(&ctx, req, out);
  }

  std::shared_ptr<testing::ScriptedStats> stats_;
  std::unique_ptr<FetchServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FetchService::Stub> stub_;
};

TEST_F(ServerTest, ServesFetchAndHealth) {
  Start();
  v1::FetchResponse r;
  grpc::ClientContext ctx;
  v1::FetchRequest req;
  req.set_url("http://ok.test/x");
  ASSERT_TRUE(stub_->Fetch(&ctx, req, &r).ok());
  EXPECT_EQ(r.body(), "ok /x");

  HealthCheckResponse h;
  grpc::Status s = Health(&h);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(h.status(), HealthCheckResponse::SERVING);
  // By name too (Kubernetes' grpc probe with `service:`, gRPC's healthCheckConfig).
  s = Health(&h, "corio.fetch.v1.FetchService");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(h.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health(&h, "no.such.Service").error_code(), grpc::StatusCode::NOT_FOUND);
  // Calls name the replica that served them.
  EXPECT_EQ(server_->name(), "127.0.0.1:" + std::to_string(server_->port()));
  auto it = ctx.GetServerInitialMetadata().find(kFetchServerHeader);
  ASSERT_NE(it, ctx.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), server_->name());
}

// Server reflection, spoken with the message types libgrpc++_reflection registers.
TEST_F(ServerTest, ReflectionListsTheServices) {
  Start();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* req_desc =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const auto* resp_desc =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  ASSERT_NE(req_desc, nullptr);
  ASSERT_NE(resp_desc, nullptr);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> req(factory->GetPrototype(req_desc)->New());
  req->GetReflection()->SetString(req.get(), req_desc->FindFieldByName("list_services"), "*");
  std::string wire;
  ASSERT_TRUE(req->SerializeToString(&wire));

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel_.get(), method, &ctx));
  grpc::Slice slice(wire);
  grpc::ByteBuffer out(&slice, 1);
  ASSERT_TRUE(stream->Write(out));
  ASSERT_TRUE(stream->WritesDone());
  grpc::ByteBuffer in;
  ASSERT_TRUE(stream->Read(&in));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string got;
  for (const grpc::Slice& s : slices) got.append(reinterpret_cast<const char*>(s.begin()), s.size());
  std::unique_ptr<google::protobuf::Message> resp(factory->GetPrototype(resp_desc)->New());
  ASSERT_TRUE(resp->ParseFromString(got));
  EXPECT_TRUE(stream->Finish().ok());

  const auto* list_field = resp_desc->FindFieldByName("list_services_response");
  const google::protobuf::Message& list = resp->GetReflection()->GetMessage(*resp, list_field);
  const auto* service_field = list.GetDescriptor()->FindFieldByName("service");
  std::vector<std::string> names;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, service_field); ++i) {
    const google::protobuf::Message& svc =
        list.GetReflection()->GetRepeatedMessage(list, service_field, i);
    names.push_back(
        svc.GetReflection()->GetString(svc, svc.GetDescriptor()->FindFieldByName("name")));
  }
  EXPECT_THAT(names, Contains("corio.fetch.v1.FetchService"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(names, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(ServerTest, ShutdownLetsInFlightCallsFinishWithinTheGrace) {
  Start();
  grpc::ClientContext ctx;
  v1::FetchManyRequest m;
  m.add_requests()->set_url("http://gate.test/");
  m.add_requests()->set_url("http://gate.test/");
  auto reader = stub_->FetchMany(&ctx, m);
  ASSERT_TRUE(stats_->WaitForRunning(2));

  std::thread shutdown([&] { server_->Shutdown(absl::Seconds(60)); });
  // The server stops taking calls: wait until a new call is refused (it ends at once).
  auto other = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
  auto other_stub = v1::FetchService::NewStub(other);
  grpc::Status refused;
  for (int i = 0; i < 100000 && refused.ok(); ++i) {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::FetchRequest req;
    req.set_url("http://ok.test/");
    v1::FetchResponse r;
    refused = other_stub->Fetch(&c, req, &r);
    std::this_thread::yield();
  }
  // Refused by the draining service (the gRPC server still runs: health answers).
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("shutting down"));
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::FetchManyRequest many;
    many.add_requests()->set_url("http://ok.test/");
    auto refused_stream = other_stub->FetchMany(&c, many);
    v1::FetchResponse r;
    EXPECT_FALSE(refused_stream->Read(&r));
    EXPECT_EQ(refused_stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  // Health answers NOT_SERVING, overall and by name, while the call in flight drains.
  for (const std::string service : {"", "corio.fetch.v1.FetchService"}) {
    HealthCheckResponse h;
    grpc::Status s = Health(&h, service);
    ASSERT_TRUE(s.ok()) << service << ": " << s.error_message();
    EXPECT_EQ(h.status(), HealthCheckResponse::NOT_SERVING) << service;
  }

  // The call in flight still completes.
  stats_->OpenGate();
  v1::FetchResponse r;
  int results = 0;
  while (reader->Read(&r)) {
    EXPECT_EQ(r.status(), 200);
    ++results;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(results, 2);
  shutdown.join();
  EXPECT_EQ(stats_->cancelled(), 0);
}

TEST_F(ServerTest, ShutdownCancelsWhatOutlivesTheGrace) {
  Start();
  grpc::ClientContext ctx;
  v1::FetchManyRequest m;
  m.add_requests()->set_url("http://stall.test/");
  m.add_requests()->set_url("http://stall.test/");
  auto reader = stub_->FetchMany(&ctx, m);
  ASSERT_TRUE(stats_->WaitForRunning(2));
  server_->Shutdown(absl::Milliseconds(100));
  // Shutdown returned: the fetches were cancelled and have ended.
  EXPECT_EQ(stats_->cancelled(), 2);
  EXPECT_EQ(stats_->running(), 0);
  v1::FetchResponse r;
  while (reader->Read(&r)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
}

TEST(ServerTlsTest, ServesOverTlsAndRefusesPlaintext) {
  absl::StatusOr<corio::testing::TlsCerts> certs = corio::testing::TlsCerts::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  FetchServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.threads = 1;
  o.backend = testing::ScriptedBackendFactory(std::make_shared<testing::ScriptedStats>());
  o.tls_cert_file = certs->server_cert_file();
  o.tls_key_file = certs->server_key_file();
  auto server = FetchServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  // 127.0.0.1, with the certificate's name checked as "localhost": resolving "localhost" needs
  // an /etc/hosts, which a minimal machine may not have.
  const std::string target = "127.0.0.1:" + std::to_string((*server)->port());
  v1::FetchRequest req;
  req.set_url("http://ok.test/tls");
  {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = certs->ca_pem();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto stub = v1::FetchService::NewStub(
        grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl), args));
    grpc::ClientContext ctx;
    v1::FetchResponse r;
    grpc::Status s = stub->Fetch(&ctx, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.body(), "ok /tls");
  }
  {
    auto stub = v1::FetchService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::FetchResponse r;
    EXPECT_EQ(stub->Fetch(&ctx, req, &r).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  {
    // A client that does not trust the server's CA.
    auto stub = v1::FetchService::NewStub(
        grpc::CreateChannel(target, grpc::SslCredentials(grpc::SslCredentialsOptions{
                                        .pem_root_certs = certs->self_signed().cert_pem})));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::FetchResponse r;
    EXPECT_EQ(stub->Fetch(&ctx, req, &r).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
}

TEST(ServerOptionsTest, RefusesBadOptions) {
  FetchServerOptions o;
  o.listen_address = "127.0.0.1:0";
  EXPECT_THAT(FetchServer::Start(o).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  o.backend = testing::ScriptedBackendFactory(std::make_shared<testing::ScriptedStats>());
  o.max_concurrent_fetches = 0;
  EXPECT_THAT(FetchServer::Start(o).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  o.max_concurrent_fetches = 10;
  o.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_THAT(FetchServer::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both")));
  o.tls_key_file = "/nonexistent/key.pem";
  EXPECT_THAT(FetchServer::Start(o).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/cert.pem")));
}

TEST(ServerOptionsTest, APortInUseIsUnavailable) {
  FetchServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.threads = 1;
  o.backend = testing::ScriptedBackendFactory(std::make_shared<testing::ScriptedStats>());
  auto first = FetchServer::Start(o);
  ASSERT_TRUE(first.ok()) << first.status();
  o.listen_address = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_THAT(FetchServer::Start(o).status(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace corio::fetch
