// End-to-end: the built fetch_server binary, driven by a real gRPC client, fetching from the
// fake HTTP server: flags and usage errors, the health service, the address policy default,
// the bearer token, and SIGTERM with work in flight (graceful, then cancelling, exit 0).
#include <signal.h>

#include <fstream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "cmd/fetch_cmd/subprocess.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/health.grpc.pb.h"
#include "testing/http_server.h"

namespace {

using ::corio::fetch_cmd::testing::Subprocess;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpGate;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;
namespace v1 = ::corio::fetch::v1;

std::string g_binary;

// Captures "listening on HOST:PORT" from the server's first stdout line.
bool Listening(const std::string& out, const void* arg) {
  const size_t nl = out.find('\n');
  if (nl == std::string::npos) return false;
  *static_cast<std::string*>(const_cast<void*>(arg)) = out.substr(0, nl);
  return true;
}

class Server {
 public:
  explicit Server(std::vector<std::string> flags) {
    std::vector<std::string> argv = {g_binary, "--host=127.0.0.1", "--port=0", "--threads=2"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = Subprocess::Start(argv);
    EXPECT_TRUE(p.ok()) << p.status();
    process_ = std::make_unique<Subprocess>(*std::move(p));
    std::string line;
    EXPECT_TRUE(process_->ReadStdoutUntil(&Listening, &line, absl::Seconds(60)));
    EXPECT_TRUE(absl::StartsWith(line, "listening on 127.0.0.1:")) << line;
    target_ = line.substr(std::string("listening on ").size());
    channel_ = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
    stub_ = v1::FetchService::NewStub(channel_);
  }
  ~Server() {
    if (process_ != nullptr) {
      process_->Signal(SIGKILL);
      process_->Wait();
    }
  }
  v1::FetchService::Stub& stub() { return *stub_; }
  grpc::Channel& channel() { return *channel_; }
  // Sends `sig` (0: none, it was sent already) and waits for the process to exit.
  Subprocess::Result Stop(int sig = SIGTERM) {
    if (sig != 0) process_->Signal(sig);
    Subprocess::Result r = process_->Wait();
    process_.reset();
    return r;
  }
  Subprocess& process() { return *process_; }
  const std::string& target() const { return target_; }

 private:
  std::unique_ptr<Subprocess> process_;
  std::string target_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FetchService::Stub> stub_;
};

grpc::Status Fetch(v1::FetchService::Stub& stub, const std::string& url, v1::FetchResponse* r,
                   const std::string& token = "") {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  v1::FetchRequest req;
  req.set_url(url);
  return stub.Fetch(&ctx, req, r);
}

Subprocess::Result RunServer(std::vector<std::string> args) {
  args.insert(args.begin(), g_binary);
  auto p = Subprocess::Start(args);
  EXPECT_TRUE(p.ok()) << p.status();
  return p->Wait();
}

TEST(FetchServerTest, HelpAndUsageErrors) {
  Subprocess::Result help = RunServer({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--allow_private_networks"));
  EXPECT_THAT(help.out, HasSubstr("--max_concurrent_fetches"));
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--port=abc"},
                                             {"--port=70000"},
                                             {"--no_such_flag"},
                                             {"positional"},
                                             {"--allow_cidr=10.0.0.1/8"},
                                             {"--threads=-1"},
                                             {"--max_concurrent_fetches=0"},
                                             {"--shutdown_grace=banana"},
                                             {"--max_connection_age=-1s"},
                                             {"--bearer_token_file=/nonexistent/token"},
                                             {"--tls_cert=/nonexistent/cert.pem"},
                                             {"--tls_key=/nonexistent/key.pem"},
                                             {"--host=not-an-address"},
                                             {"--host=256.1.1.1"},
                                             {"--host=127.0.0.1\nx"},
                                             {"--default_timeout=10m", "--max_timeout=1s"}}) {
    Subprocess::Result r = RunServer(bad);
    EXPECT_EQ(r.exit_code, 2) << bad[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("--help")) << bad[0];
    // One line (no gRPC log before it).
    EXPECT_TRUE(absl::StartsWith(r.err, "fetch_server: ")) << bad[0] << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << bad[0] << ": " << r.err;
  }
  // Bracketed IPv6 and the default listen address are addresses.
  for (const std::string host : {"[::1]", "::1"}) {
    Subprocess::Result r = RunServer({"--host=" + host, "--port=70000"});
    EXPECT_THAT(r.err, HasSubstr("--port=70000")) << host << ": " << r.err;
  }
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(grpc::Channel& channel) {
  auto stub = grpc::health::v1::Health::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::health::v1::HealthCheckResponse r;
  grpc::Status s = stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return r.status();
}

TEST(FetchServerTest, APortInUseExitsOne) {
  Server first({});
  const std::string port = first.target().substr(first.target().rfind(':') + 1);
  Subprocess::Result r = RunServer({"--host=127.0.0.1", "--port=" + port});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot listen on 127.0.0.1:" + port));
}

TEST(FetchServerTest, ServesHealthAndFetchesAndExitsZeroOnSigterm) {
  auto http = *FakeHttpServer::StartInBackground();
  http->Route("/hello", HttpResponse::Text(200, "hi"));
  Server server({"--allow_private_networks"});
  EXPECT_EQ(Health(server.channel()), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::FetchResponse r;
  grpc::Status s = Fetch(server.stub(), http->url("/hello"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.body(), "hi");
  Subprocess::Result done = server.Stop(SIGTERM);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("stopped"));
}

TEST(FetchServerTest, RefusesLoopbackByDefault) {
  auto http = *FakeHttpServer::StartInBackground();
  http->Route("/hello", HttpResponse::Text(200, "hi"));
  Server server({});
  v1::FetchResponse r;
  grpc::Status s = Fetch(server.stub(), http->url("/hello"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("address " + http->authority() + " refused"));
  EXPECT_EQ(http->stats().connections_accepted, 0);
}

TEST(FetchServerTest, BearerTokenFromAFile) {
  auto http = *FakeHttpServer::StartInBackground();
  http->Route("/hello", HttpResponse::Text(200, "hi"));
  const std::string file = std::string(getenv("TEST_TMPDIR")) + "/token";
  std::ofstream(file) << "  tok-123\n";
  Server server({"--allow_private_networks", "--bearer_token_file=" + file});
  v1::FetchResponse r;
  EXPECT_EQ(Fetch(server.stub(), http->url("/hello"), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Fetch(server.stub(), http->url("/hello"), &r, "tok-12").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Fetch(server.stub(), http->url("/hello"), &r, "tok-123").ok());
  // Health stays open (probes carry no token).
  EXPECT_EQ(Health(server.channel()), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(FetchServerTest, SigtermLetsInFlightWorkFinish) {
  auto http = *FakeHttpServer::StartInBackground();
  std::shared_ptr<HttpGate> gate = HttpGate::Create();
  http->Route("/gated", HttpResponse::Text(200, "late").WithGate(gate));
  Server server({"--allow_private_networks", "--shutdown_grace=60s"});
  grpc::ClientContext ctx;
  v1::FetchManyRequest m;
  m.add_requests()->set_url(http->url("/gated"));
  m.add_requests()->set_url(http->url("/gated"));
  auto reader = server.stub().FetchMany(&ctx, m);
  ASSERT_TRUE(http->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight == 2; }));
  server.process().Signal(SIGTERM);
  // Wait until the server no longer serves (health NOT_SERVING, or calls refused); the two
  // fetches are still in flight.
  auto health = grpc::health::v1::Health::NewStub(
      std::shared_ptr<grpc::Channel>(&server.channel(), [](grpc::Channel*) {}));
  bool serving = true;
  for (int i = 0; i < 100000 && serving; ++i) {
    grpc::ClientContext hc;
    hc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckResponse hr;
    grpc::Status hs = health->Check(&hc, grpc::health::v1::HealthCheckRequest(), &hr);
    serving = hs.ok() && hr.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    std::this_thread::yield();
  }
  ASSERT_FALSE(serving);
  EXPECT_EQ(http->stats().in_flight, 2);
  gate->Open();
  v1::FetchResponse r;
  int n = 0;
  while (reader->Read(&r)) {
    EXPECT_EQ(r.body(), "late");
    ++n;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 2);
  Subprocess::Result done = server.Stop(0);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("SIGTERM"));
}

TEST(FetchServerTest, SigtermCancelsWhatOutlivesTheGrace) {
  auto http = *FakeHttpServer::StartInBackground();
  http->Route("/stall", HttpResponse::Stall());
  Server server({"--allow_private_networks", "--shutdown_grace=200ms"});
  grpc::ClientContext ctx;
  v1::FetchManyRequest m;
  m.add_requests()->set_url(http->url("/stall"));
  m.add_requests()->set_url(http->url("/stall"));
  auto reader = server.stub().FetchMany(&ctx, m);
  ASSERT_TRUE(http->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight == 2; }));
  Subprocess::Result done = server.Stop(SIGTERM);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  v1::FetchResponse r;
  while (reader->Read(&r)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
  // The fetches were cancelled and their connections closed before the process exited.
  EXPECT_TRUE(http->WaitUntil([](const FakeHttpServer::Stats& s) {
    return s.connections_open == 0;
  }));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fetch_server_test PATH_TO_FETCH_SERVER\n");
    return 2;
  }
  g_binary = argv[1];
  return RUN_ALL_TESTS();
}
