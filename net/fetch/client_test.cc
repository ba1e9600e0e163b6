// FetchClient against FetchServers (scripted backend) on loopback, from corio tasks.
#include "net/fetch/client.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/server.h"
#include "net/fetch/testing/raw_fetch_server.h"
#include "net/fetch/testing/scripted_backend.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

struct Replica {
  std::shared_ptr<testing::ScriptedStats> stats = std::make_shared<testing::ScriptedStats>();
  std::unique_ptr<FetchServer> server;

  explicit Replica(const std::string& host = "127.0.0.1", FetchServiceOptions service = {}) {
    FetchServerOptions o;
    o.listen_address = host + ":0";
    o.threads = 1;
    o.service = std::move(service);
    o.backend = testing::ScriptedBackendFactory(stats);
    server = *FetchServer::Start(std::move(o));
  }
  std::string address() const { return server->name(); }
};

std::unique_ptr<FetchClient> ClientFor(const std::string& target, std::string token = "") {
  FetchClientOptions o;
  o.target = target;
  o.bearer_token = std::move(token);
  return *FetchClient::Create(std::move(o));
}

v1::FetchRequest Req(const std::string& url) {
  v1::FetchRequest r;
  r.set_url(url);
  return r;
}

TEST(FetchClientTest, UnaryFetchFromATask) {
  Replica replica;
  auto client = ClientFor(replica.address());
  auto main = [&]() -> Task<absl::Status> {
    absl::StatusOr<v1::FetchResponse> r = co_await client->Fetch(Req("http://ok.test/a"));
    CORIO_CO_RETURN_IF_ERROR(r.status());
    EXPECT_EQ(r->body(), "ok /a");
    // A fetch that failed on the server is marked as such...
    absl::StatusOr<v1::FetchResponse> failed = co_await client->Fetch(Req("http://fail.test/14"));
    EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, "scripted failure 14"));
    EXPECT_TRUE(IsFetchFailure(failed.status()));
    // ...a refused call is not.
    absl::StatusOr<v1::FetchResponse> bad = co_await client->Fetch(Req("htp://x"));
    EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_FALSE(IsFetchFailure(bad.status()));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

// A response that does not parse (a proto3 string that is not UTF-8) is an error the client
// reports: INTERNAL for Fetch (gRPC alone would have made it an OK call with an empty
// response), and in FetchMany an error in that item only, the other items still answered.
TEST(FetchClientTest, AnAnswerThatDoesNotParseIsAnErrorOfItsOwn) {
  auto raw = testing::RawFetchServer::Start();
  ASSERT_NE(raw, nullptr);
  auto client = ClientFor(raw->address());
  auto main = [&]() -> Task<absl::Status> {
    absl::StatusOr<v1::FetchResponse> ok = co_await client->Fetch(Req("http://ok.test/"));
    CORIO_CO_RETURN_IF_ERROR(ok.status());
    EXPECT_EQ(ok->reason(), "OK");
    absl::StatusOr<v1::FetchResponse> r = co_await client->Fetch(Req("http://poison.test/"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInternal, HasSubstr("does not parse")));
    EXPECT_FALSE(IsFetchFailure(r.status()));

    v1::FetchManyRequest m;
    for (const char* u : {"http://ok.test/0", "http://poison.test/1", "http://corrupt.test/2",
                          "http://ok.test/3"}) {
      *m.add_requests() = Req(u);
    }
    std::unique_ptr<FetchManyCall> call = client->FetchMany(m);
    std::map<int, v1::FetchResponse> got;
    for (;;) {
      absl::StatusOr<std::optional<v1::FetchResponse>> next = co_await call->Next();
      CORIO_CO_RETURN_IF_ERROR(next.status());  // the call itself ends OK
      if (!next->has_value()) break;
      got[(*next)->index()] = **next;
    }
    // The corrupt one says nothing of its index: it is skipped (the caller sees it
    // unanswered at the end of the call).
    EXPECT_EQ(got.size(), 3u);
    EXPECT_FALSE(got[0].has_error());
    EXPECT_EQ(got[1].error().code(), static_cast<int>(absl::StatusCode::kInternal));
    EXPECT_THAT(got[1].error().message(), HasSubstr("does not parse"));
    EXPECT_FALSE(got[3].has_error());
    EXPECT_EQ(got[3].status(), 200);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

TEST(FetchClientTest, TokenAndDeadline) {
  FetchServiceOptions so;
  so.bearer_token = "t0k";
  Replica replica("127.0.0.1", so);
  auto without = ClientFor(replica.address());
  auto with = ClientFor(replica.address(), "t0k");
  auto main = [&]() -> Task<absl::Status> {
    absl::StatusOr<v1::FetchResponse> r = co_await without->Fetch(Req("http://ok.test/"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_FALSE(IsFetchFailure(r.status()));
    r = co_await with->Fetch(Req("http://ok.test/"));
    EXPECT_THAT(r.status(), IsOk());
    CallOptions quick;
    quick.timeout = absl::Milliseconds(200);
    r = co_await with->Fetch(Req("http://stall.test/"), quick);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_TRUE(replica.server->dispatcher().WaitForIdle(absl::Seconds(30)));
}

TEST(FetchClientTest, CancellingTheTaskCancelsTheCall) {
  Replica replica;
  auto client = ClientFor(replica.address());
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<absl::StatusOr<v1::FetchResponse>> h =
        Spawn(client->Fetch(Req("http://stall.test/")));
    auto many = client->FetchMany([] {
      v1::FetchManyRequest m;
      m.add_requests()->set_url("http://stall.test/");
      return m;
    }());
    JoinHandle<absl::StatusOr<std::optional<v1::FetchResponse>>> n = Spawn(many->Next());
    // Both are running on the server before we cancel.
    while (replica.stats->running() < 2) co_await Yield();
    h.Cancel();
    n.Cancel();
    absl::StatusOr<v1::FetchResponse> r = co_await std::move(h);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kCancelled));
    absl::StatusOr<std::optional<v1::FetchResponse>> nr = co_await std::move(n);
    EXPECT_THAT(nr.status(), StatusIs(absl::StatusCode::kCancelled));
    many.reset();  // destroying the call cancels it on the server
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_TRUE(replica.stats->WaitForCancelled(2));
}

TEST(FetchClientTest, FetchManyStreamsEveryAnswerAndNamesTheServer) {
  Replica replica;
  auto client = ClientFor(replica.address());
  auto main = [&]() -> Task<absl::Status> {
    v1::FetchManyRequest m;
    for (int i = 0; i < 50; ++i) m.add_requests()->set_url("http://ok.test/" + std::to_string(i));
    m.add_requests()->set_url("http://fail.test/7");
    auto call = client->FetchMany(m);
    std::vector<bool> seen(51, false);
    int errors = 0;
    for (;;) {
      CORIO_CO_ASSIGN_OR_RETURN(std::optional<v1::FetchResponse> r, co_await call->Next());
      if (!r.has_value()) break;
      EXPECT_FALSE(seen[r->index()]);
      seen[r->index()] = true;
      if (r->has_error()) ++errors;
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 51);
    EXPECT_EQ(errors, 1);
    EXPECT_EQ(call->server(), replica.address());
    // After the end, Next keeps saying so.
    CORIO_CO_ASSIGN_OR_RETURN(std::optional<v1::FetchResponse> again, co_await call->Next());
    EXPECT_FALSE(again.has_value());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

TEST(FetchClientTest, UnreachableServerIsUnavailable) {
  // A port nobody listens on (a server that was started and stopped).
  std::string address;
  {
    Replica gone;
    address = gone.address();
  }
  auto client = ClientFor(address);
  auto main = [&]() -> Task<absl::Status> {
    absl::StatusOr<v1::FetchResponse> r = co_await client->Fetch(Req("http://ok.test/"));
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnavailable));
    auto call = client->FetchMany(v1::FetchManyRequest());
    absl::StatusOr<std::optional<v1::FetchResponse>> n = co_await call->Next();
    EXPECT_THAT(n.status(), StatusIs(absl::StatusCode::kUnavailable));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

TEST(FetchClientTest, RoundRobinSpreadsCallsOverServers) {
  Replica a("127.0.0.1"), b("127.0.0.2"), c("127.0.0.3");
  auto client = ClientFor("ipv4:" + a.address() + "," + b.address() + "," + c.address());
  auto main = [&]() -> Task<absl::Status> {
    // The first calls may all land on the first server to be ready; wait-for-ready makes
    // every server connect, then calls rotate.
    CallOptions call;
    call.wait_for_ready = true;
    for (int i = 0; i < 60; ++i) {
      absl::StatusOr<v1::FetchResponse> r = co_await client->Fetch(Req("http://ok.test/"), call);
      CORIO_CO_RETURN_IF_ERROR(r.status());
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_EQ(a.stats->started() + b.stats->started() + c.stats->started(), 60);
  EXPECT_GT(a.stats->started(), 0);
  EXPECT_GT(b.stats->started(), 0);
  EXPECT_GT(c.stats->started(), 0);
}

TEST(FetchClientTest, ALoopDestroyedBeforeTheAnswerIsHarmless) {
  Replica replica;
  auto client = ClientFor(replica.address());
  std::unique_ptr<FetchManyCall> outlives_its_loop;
  {
    auto loop = *EventLoop::Create();
    auto main = [&]() -> Task<absl::Status> {
      // Left running when the main task returns: Run cancels it; the gRPC calls complete
      // later, after the loop is gone (their completions must be dropped, not posted).
      Spawn(client->Fetch(Req("http://slow.test/200"))).Detach();
      v1::FetchManyRequest m;
      m.add_requests()->set_url("http://slow.test/200");
      outlives_its_loop = client->FetchMany(m);
      co_return absl::OkStatus();
    };
    EXPECT_THAT(corio::Run(*loop, main()), IsOk());
  }
  EXPECT_TRUE(replica.server->dispatcher().WaitForIdle(absl::Seconds(30)));
}

}  // namespace
}  // namespace corio::fetch
