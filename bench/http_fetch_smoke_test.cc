// Runs bench/http_fetch against the fake server with 1 and 2 loops and checks its summary.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_server.h"

namespace {

using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;

std::string RunCommand(const std::string& cmd, int* status) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (p == nullptr) return out;
  std::array<char, 512> chunk;
  size_t n;
  while ((n = fread(chunk.data(), 1, chunk.size(), p)) > 0) out.append(chunk.data(), n);
  *status = pclose(p);
  return out;
}

TEST(HttpFetchSmokeTest, FetchesEveryUrlAndCountsTheBytes) {
  auto server = FakeHttpServer::StartInBackground().value();
  server->RoutePrefix("/1k", HttpResponse::Text(200, std::string(1024, 'x')));
  const std::string list = absl::StrCat(getenv("TEST_TMPDIR"), "/urls.txt");
  {
    std::ofstream f(list);
    for (int i = 0; i < 300; ++i) f << server->url(absl::StrCat("/1k?i=", i)) << "\n";
  }
  const std::string bin = absl::StrCat(getenv("TEST_SRCDIR"), "/corio/bench/http_fetch");
  for (int threads : {1, 2}) {
    int status = -1;
    const std::string out = RunCommand(
        absl::StrCat(bin, " --concurrency 8 --input ", list, " --threads ", threads), &status);
    EXPECT_THAT(out, ::testing::HasSubstr("ok=300 failed=0 bytes=307200")) << threads;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_LE(server->stats().connections_accepted, 2 * 8);
}

}  // namespace
