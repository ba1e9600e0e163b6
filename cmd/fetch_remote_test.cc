// End-to-end: `fetch --server=TARGET` — the fetch command handing its URLs to fetch_server
// processes over gRPC: the same outputs and exit statuses as a local run, work spread over
// every replica (round robin), a replica killed mid-run losing no URL, and the servers' own
// policy (loopback refused by default) reported per URL.
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/fetch_cmd/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_server.h"
#include "testing/tls_certs.h"

namespace {

using ::corio::fetch_cmd::testing::JsonObject;
using ::corio::fetch_cmd::testing::ParseJsonLines;
using ::corio::fetch_cmd::testing::Subprocess;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpGate;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;

std::string g_fetch;
std::string g_server;

bool FirstLine(const std::string& out, const void* arg) {
  const size_t nl = out.find('\n');
  if (nl == std::string::npos) return false;
  *static_cast<std::string*>(const_cast<void*>(arg)) = out.substr(0, nl);
  return true;
}

// One fetch_server process on `host`, port chosen by the kernel.
class Replica {
 public:
  explicit Replica(const std::string& host, std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {g_server, "--host=" + host, "--port=0", "--threads=1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = Subprocess::Start(argv);
    EXPECT_TRUE(p.ok()) << p.status();
    process_ = std::make_unique<Subprocess>(*std::move(p));
    std::string line;
    EXPECT_TRUE(process_->ReadStdoutUntil(&FirstLine, &line, absl::Seconds(60)));
    EXPECT_TRUE(absl::StartsWith(line, "listening on ")) << line;
    address_ = line.substr(std::string("listening on ").size());
  }
  ~Replica() { Kill(); }
  void Kill() {
    if (process_ == nullptr) return;
    process_->Signal(SIGKILL);
    process_->Wait();
    process_.reset();
  }
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<Subprocess> process_;
  std::string address_;
};

Subprocess::Result RunFetch(std::vector<std::string> args) {
  args.insert(args.begin(), g_fetch);
  auto p = Subprocess::Start(args);
  EXPECT_TRUE(p.ok());
  return p->Wait();
}

class FetchRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = FakeHttpServer::StartInBackground();
    ASSERT_TRUE(s.ok()) << s.status();
    web_ = std::move(*s);
    web_->RoutePrefix("/page/", HttpResponse::Text(200, "a page"));
    web_->Route("/missing", HttpResponse::Text(404, "no"));
    web_->Route("/r", HttpResponse::Redirect(302, "/page/after-redirect"));
  }
  std::unique_ptr<FakeHttpServer> web_;
};

TEST_F(FetchRemoteTest, SameResultsAsALocalRun) {
  Replica replica("127.0.0.1", {"--allow_private_networks"});
  const std::vector<std::string> urls = {web_->url("/page/1"), web_->url("/missing"),
                                         web_->url("/r"), "htp://bad"};
  std::vector<std::string> args = {"--output=jsonl", "--server=" + replica.address()};
  args.insert(args.end(), urls.begin(), urls.end());
  Subprocess::Result remote = RunFetch(args);
  std::vector<std::string> local_args = {"--output=jsonl"};
  local_args.insert(local_args.end(), urls.begin(), urls.end());
  Subprocess::Result local = RunFetch(local_args);
  EXPECT_EQ(remote.exit_code, 1) << remote.err;
  EXPECT_EQ(local.exit_code, 1) << local.err;
  std::map<std::string, JsonObject> r, l;
  for (JsonObject& o : ParseJsonLines(remote.out)) r[o["url"].str] = o;
  for (JsonObject& o : ParseJsonLines(local.out)) l[o["url"].str] = o;
  ASSERT_EQ(r.size(), urls.size()) << remote.out;
  for (const std::string& u : urls) {
    for (const char* field :
         {"status", "bytes", "final_url", "redirects", "error", "error_code"}) {
      EXPECT_EQ(r[u][field].kind, l[u][field].kind) << u << " " << field;
      EXPECT_EQ(r[u][field].number, l[u][field].number) << u << " " << field;
      EXPECT_EQ(r[u][field].str, l[u][field].str) << u << " " << field;
    }
  }
  EXPECT_THAT(remote.err, HasSubstr("via 1 server (" + replica.address()));
}

TEST_F(FetchRemoteTest, TheServersPolicyRefusesLoopbackByDefault) {
  Replica replica("127.0.0.1");
  Subprocess::Result r =
      RunFetch({"--output=jsonl", "--server=" + replica.address(), web_->url("/page/1")});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["error_code"].str, "PERMISSION_DENIED");
  EXPECT_THAT(lines[0]["error"].str, HasSubstr("127.0.0.1"));
  EXPECT_EQ(web_->requests(), 0);
}

TEST_F(FetchRemoteTest, WorkIsSpreadOverEveryReplicaAndAKilledOneLosesNothing) {
  std::vector<std::unique_ptr<Replica>> replicas;
  for (const char* host : {"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
    replicas.push_back(std::make_unique<Replica>(host, std::vector<std::string>{
                                                           "--allow_private_networks"}));
  }
  auto gate = HttpGate::Create();
  web_->RoutePrefix("/held/", HttpResponse::Text(200, "held page").WithGate(gate));
  const std::string target = absl::StrCat("ipv4:", replicas[0]->address(), ",",
                                          replicas[1]->address(), ",", replicas[2]->address());
  std::vector<std::string> args = {g_fetch, "--output=jsonl", "--server=" + target,
                                   "--concurrency=48"};
  const int kUrls = 300;
  for (int i = 0; i < kUrls; ++i) args.push_back(web_->url(absl::StrCat("/held/", i)));
  auto p = Subprocess::Start(args);
  ASSERT_TRUE(p.ok());
  // Work is in flight on the replicas (held at the web server): kill one, then let it all go.
  ASSERT_TRUE(web_->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight >= 24; }));
  replicas[1]->Kill();
  gate->Open();
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kUrls)) << "every URL has its result";
  for (JsonObject& o : lines) EXPECT_EQ(o["status"].number, 200) << o["url"].str;
  // Every replica answered some (the killed one before it died, unless it had none yet).
  EXPECT_THAT(r.err, HasSubstr(replicas[0]->address() + ": "));
  EXPECT_THAT(r.err, HasSubstr(replicas[2]->address() + ": "));
}

// gRPC's and protobuf's own log lines stay off fetch's stderr: a server whose certificate the
// given CA did not sign is each URL's UNAVAILABLE, and stderr holds only fetch's own lines (it
// had gRPC's "E1201 ... ssl_transport_security.cc ... Handshake failed ..." per attempt).
TEST_F(FetchRemoteTest, GrpcLogLinesStayOffStderr) {
  absl::StatusOr<corio::testing::TlsCerts> certs = corio::testing::TlsCerts::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  absl::StatusOr<corio::testing::TlsCerts> other = corio::testing::TlsCerts::Create();
  ASSERT_TRUE(other.ok()) << other.status();
  Replica replica("127.0.0.1", {"--tls_cert=" + certs->server_cert_file(),
                                "--tls_key=" + certs->server_key_file()});
  Subprocess::Result r =
      RunFetch({"--output=jsonl", "--timeout=5s", "--server=" + replica.address(),
                "--server_cacert=" + other->ca_file(), web_->url("/page/1")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out << r.err;
  EXPECT_EQ(lines[0]["error_code"].str, "UNAVAILABLE");
  for (absl::string_view line : absl::StrSplit(r.err, '\n', absl::SkipEmpty())) {
    EXPECT_FALSE(absl::StrContains(line, ".cc:")) << line;  // "E1201 12:00:00 ... file.cc:123]"
    EXPECT_FALSE(absl::StrContains(line, "libprotobuf")) << line;
  }
}

TEST(FetchRemoteUsageTest, ServerNeedsUrls) {
  Subprocess::Result r = RunFetch({"--server=127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--help"));
}

TEST(FetchRemoteUsageTest, NoServerReachableIsAFailurePerUrl) {
  Subprocess::Result r =
      RunFetch({"--output=jsonl", "--timeout=2s", "--server=127.0.0.1:1", "http://example.test/"});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out << r.err;
  EXPECT_EQ(lines[0]["error_code"].str, "UNAVAILABLE");
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: fetch_remote_test PATH_TO_FETCH PATH_TO_FETCH_SERVER\n");
    return 2;
  }
  g_fetch = argv[1];
  g_server = argv[2];
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
