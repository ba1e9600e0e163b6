// Runs the built fetch_service benchmark client against an in-process FetchServer and the fake
// HTTP server, in both modes, so the benchmark never rots.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/http_backend.h"
#include "net/fetch/server.h"
#include "testing/http_server.h"

namespace {

using ::testing::HasSubstr;

std::string g_binary;

// Runs `args` (shell words, no quoting needed here); returns the exit status and the output.
int RunBinary(const std::string& args, std::string* out) {
  FILE* p = popen((g_binary + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FetchServiceBenchTest, FetchesEveryUrlInBothModes) {
  auto http = *corio::testing::FakeHttpServer::StartInBackground();
  http->RoutePrefix("/1k", corio::testing::HttpResponse::Text(200, std::string(1024, 'x')));
  corio::fetch::HttpBackendOptions b;
  b.policy = corio::fetch::AddressPolicy({.allow_private_networks = true});
  corio::fetch::FetchServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.threads = 1;
  o.backend = corio::fetch::HttpBackendFactory(b);
  auto server = *corio::fetch::FetchServer::Start(std::move(o));
  const std::string list = std::string(getenv("TEST_TMPDIR")) + "/urls.txt";
  {
    std::ofstream f(list);
    for (int i = 0; i < 200; ++i) f << http->url("/1k?i=" + std::to_string(i)) << "\n";
  }
  for (const std::string mode : {"stream", "unary"}) {
    std::string out;
    const int rc = RunBinary("--target " + server->name() + " --input " + list +
                                 " --concurrency 8 --mode " + mode,
                             &out);
    EXPECT_EQ(rc, 0) << mode << ": " << out;
    EXPECT_THAT(out, HasSubstr("ok=200 failed=0 bytes=204800")) << mode;
  }
  std::string usage;
  EXPECT_EQ(RunBinary("--concurrency x", &usage), 2) << usage;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) return 2;
  g_binary = argv[1];
  return RUN_ALL_TESTS();
}
