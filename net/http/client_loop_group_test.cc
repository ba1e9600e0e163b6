// Multi-core: a LoopGroup runs one Client per loop; SharedLimits keeps `limit` and
// `limit_per_host` exact across the loops (counted in flight at the server).
#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "net/http/client.h"
#include "tasks/gather.h"
#include "tasks/spawn.h"
#include "testing/http_server.h"

namespace corio::http {
namespace {

using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;

Task<void> LoopWork(ClientOptions options, std::vector<std::string> urls, std::atomic<int>* ok,
                    std::latch* done) {
  Client client(std::move(options));
  std::vector<Task<absl::StatusOr<Response>>> tasks;
  for (std::string& u : urls) {
    Request req;
    req.url = std::move(u);
    req.body_mode = BodyMode::kBuffer;
    tasks.push_back(client.Send(std::move(req)));
  }
  std::vector<absl::StatusOr<Response>> results = co_await GatherSettled(std::move(tasks));
  for (const auto& r : results) {
    if (r.ok() && r->status() == 200 && r->body() == "slow") ++*ok;
  }
  done->count_down();
}

TEST(ClientLoopGroupTest, OneClientPerLoopWithLimitsExactAcrossLoops) {
  auto server = FakeHttpServer::StartInBackground().value();
  server->RoutePrefix("/",
                      HttpResponse::Text(200, "slow").WithDelayBeforeHead(absl::Milliseconds(20)));
  const std::string a = absl::StrCat("http://127.0.0.1:", server->port(), "/a");
  const std::string b = absl::StrCat("http://localhost:", server->port(), "/b");
  auto group = LoopGroup::Create(LoopGroup::Options{.threads = 2}).value();
  ClientOptions options;
  options.shared_limits = SharedLimits::Create(/*limit=*/3, /*limit_per_host=*/2);
  constexpr int kPerLoop = 24;
  std::atomic<int> ok{0};
  std::latch done(2);
  for (size_t l = 0; l < group->size(); ++l) {
    std::vector<std::string> urls;
    for (int i = 0; i < kPerLoop; ++i) urls.push_back(i % 2 ? a : b);
    group->loop(l).CallSoonThreadSafe([options, urls = std::move(urls), &ok, &done]() mutable {
      Spawn(LoopWork(std::move(options), std::move(urls), &ok, &done)).Detach();
    });
  }
  done.wait();
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(ok.load(), 2 * kPerLoop);
  const FakeHttpServer::Stats st = server->stats();
  EXPECT_LE(st.max_in_flight, 3);
  EXPECT_GE(st.max_in_flight, 2);  // the loops did run requests at once
  for (const auto& [host, peak] : st.max_in_flight_by_host) {
    EXPECT_LE(peak, 2) << host;
  }
  EXPECT_EQ(st.max_in_flight_by_host.size(), 2u);
  EXPECT_EQ(options.shared_limits->in_use(), 0);
}

}  // namespace
}  // namespace corio::http
