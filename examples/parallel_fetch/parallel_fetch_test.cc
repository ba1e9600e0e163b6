#include "examples/parallel_fetch/parallel_fetch.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_server.h"

namespace corio::examples {
namespace {

using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpGate;
using ::corio::testing::HttpRequest;
using ::corio::testing::HttpResponse;

TEST(ParallelFetchTest, EveryCoreFetchesItsShareWithinTheSharedLimits) {
  auto server = FakeHttpServer::StartInBackground();
  ASSERT_TRUE(server.ok()) << server.status();
  auto gate = HttpGate::Create();
  (*server)->RoutePrefix("/p/", [gate](const HttpRequest& r) {
    return HttpResponse::Text(200, absl::StrCat("body of ", r.path)).WithGate(gate);
  });
  std::vector<std::string> urls;
  for (int i = 0; i < 200; ++i) urls.push_back((*server)->url(absl::StrCat("/p/", i)));
  std::thread opener([&] {
    // Four in flight at most, across both loops together, while the gate holds them.
    EXPECT_TRUE((*server)->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight >= 4; }));
    gate->Open();
  });
  ParallelResult r = FetchParallel(urls, {.threads = 2, .limit = 16, .limit_per_host = 4});
  opener.join();
  ASSERT_EQ(r.bodies.size(), urls.size());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(r.bodies[i].ok()) << r.bodies[i].status();
    EXPECT_EQ(*r.bodies[i], absl::StrCat("body of /p/", i));
  }
  EXPECT_THAT(r.per_loop, ::testing::ElementsAre(100, 100));
  EXPECT_EQ((*server)->max_in_flight_for_host((*server)->authority()), 4);
}

TEST(ParallelFetchTest, FailuresArePerUrl) {
  ParallelResult r = FetchParallel({"http://127.0.0.1:1/", "htp://bad"}, {.threads = 2});
  ASSERT_EQ(r.bodies.size(), 2u);
  EXPECT_EQ(r.bodies[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.bodies[1].status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace corio::examples
