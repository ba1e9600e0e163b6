#include "examples/fetch_many/fetch_many.h"

#include <stdio.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_server.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::examples {
namespace {

using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;

std::string Long(char c) { return std::string(150, c); }

Task<absl::Status> FetchFromFakeServer(std::string* printed) {
  CORIO_CO_ASSIGN_OR_RETURN(std::unique_ptr<FakeHttpServer> server, FakeHttpServer::Start());
  server->Route("/a", HttpResponse::Text(200, Long('a')));
  server->Route("/b", HttpResponse::Text(200, "short b"));
  server->Route("/c", HttpResponse::Text(200, Long('c')));
  char buf[4096] = {};
  std::FILE* out = fmemopen(buf, sizeof buf, "w");
  std::vector<std::string> urls = {server->url("/a"), server->url("/b"), server->url("/c")};
  absl::Status s = co_await FetchMany(std::move(urls), out);
  std::fclose(out);
  *printed = buf;
  EXPECT_EQ(server->stats().connections_accepted, 3);  // three at once: three connections
  co_return s;
}

TEST(FetchManyTest, PrintsTheFirst100CharactersOfEachBodyInOrder) {
  std::string printed;
  EXPECT_THAT(corio::testing::RunTask(FetchFromFakeServer(&printed)), corio::testing::IsOk());
  EXPECT_THAT(printed, HasSubstr(absl::StrCat("/a: ", std::string(100, 'a'), "\n")));
  EXPECT_THAT(printed, HasSubstr("/b: short b\n"));
  EXPECT_THAT(printed, HasSubstr(absl::StrCat("/c: ", std::string(100, 'c'), "\n")));
  EXPECT_LT(printed.find("/a: "), printed.find("/b: "));
  EXPECT_LT(printed.find("/b: "), printed.find("/c: "));
}

// The built binary, run against a server on its own thread.
TEST(FetchManyTest, TheBinaryFetchesFromTheFakeServer) {
  auto server = FakeHttpServer::StartInBackground().value();
  server->Route("/hello", HttpResponse::Text(200, "hello from the fake server"));
  const std::string bin =
      absl::StrCat(getenv("TEST_SRCDIR"), "/corio/examples/fetch_many/fetch_many");
  const std::string cmd = absl::StrCat(bin, " ", server->url("/hello"), " ", server->url("/nope"),
                                       " http://127.0.0.1:1/refused 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  std::array<char, 512> chunk;
  size_t n;
  while ((n = fread(chunk.data(), 1, chunk.size(), p)) > 0) output.append(chunk.data(), n);
  const int status = pclose(p);
  EXPECT_THAT(output, HasSubstr("/hello: hello from the fake server\n"));
  EXPECT_THAT(output, HasSubstr("/nope: not found"));  // a 404 is a response
  EXPECT_THAT(output, HasSubstr("/refused: error: "));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

}  // namespace
}  // namespace corio::examples
