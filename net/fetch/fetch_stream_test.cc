// FetchStream over several in-process FetchServers (scripted backend) on 127.0.0.1/.2/.3:
// every item gets exactly one result, work spreads over the servers, a server shut down
// mid-run loses no item, call errors that retrying cannot fix fail fast, cancel.
#include "net/fetch/fetch_stream.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/server.h"
#include "net/fetch/testing/raw_fetch_server.h"
#include "net/fetch/testing/scripted_backend.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

struct Replica {
  std::shared_ptr<testing::ScriptedStats> stats = std::make_shared<testing::ScriptedStats>();
  std::unique_ptr<FetchServer> server;
  std::string address;

  explicit Replica(const std::string& host, FetchServiceOptions service = {}) {
    FetchServerOptions o;
    o.listen_address = host + ":0";
    o.threads = 1;
    o.service = std::move(service);
    o.backend = testing::ScriptedBackendFactory(stats);
    server = *FetchServer::Start(std::move(o));
    address = server->name();
  }
};

std::unique_ptr<FetchClient> ClientFor(const std::vector<const Replica*>& replicas,
                                       std::string token = "") {
  std::string target = "ipv4:";
  for (size_t i = 0; i < replicas.size(); ++i) {
    target += (i ? "," : "") + replicas[i]->address;
  }
  FetchClientOptions o;
  o.target = target;
  o.bearer_token = std::move(token);
  return *FetchClient::Create(std::move(o));
}

FetchStreamItem Item(uint64_t id, const std::string& url, const std::string& method = "") {
  FetchStreamItem item;
  item.id = id;
  item.request.set_url(url);
  item.request.set_method(method);
  return item;
}

// Collects every result of a stream; fails on a duplicate id.
Task<absl::StatusOr<std::vector<FetchStreamResult>>> Drain(FetchStream& stream) {
  std::vector<FetchStreamResult> out;
  std::set<uint64_t> ids;
  for (;;) {
    CORIO_CO_ASSIGN_OR_RETURN(std::optional<FetchStreamResult> r, co_await stream.Next());
    if (!r.has_value()) break;
    if (!ids.insert(r->id).second) {
      co_return absl::InternalError("duplicate result for item " + std::to_string(r->id));
    }
    out.push_back(*std::move(r));
  }
  co_return out;
}

// An answer that does not parse is a poison pill, not a dead server: its item fails with
// INTERNAL at once and is never sent again (one call per item here, none repeated); the
// others' items are answered.
TEST(FetchStreamTest, AnAnswerThatDoesNotParseIsNotSentAgain) {
  auto raw = testing::RawFetchServer::Start();
  ASSERT_NE(raw, nullptr);
  FetchClientOptions co;
  co.target = raw->address();
  std::unique_ptr<FetchClient> client = *FetchClient::Create(co);
  auto main = [&]() -> Task<absl::Status> {
    FetchStreamOptions o;
    o.batch_size = 4;
    o.retry_backoff = absl::Milliseconds(1);
    FetchStream stream(*client, o);
    stream.Push(Item(0, "http://ok.test/0"));
    stream.Push(Item(1, "http://poison.test/1"));
    stream.Push(Item(2, "http://corrupt.test/2"));
    stream.Push(Item(3, "http://ok.test/3"));
    stream.Close();
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<FetchStreamResult> results, co_await Drain(stream));
    EXPECT_EQ(results.size(), 4u);
    for (const FetchStreamResult& r : results) {
      EXPECT_EQ(r.attempts, 1) << r.id;
      if (r.id == 0 || r.id == 3) {
        EXPECT_THAT(r.status, IsOk());
        EXPECT_EQ(r.response.status(), 200);
      } else {
        EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kInternal)) << r.id;
      }
    }
    EXPECT_EQ(stream.stats().retried_items, 0);
    EXPECT_EQ(raw->calls(), stream.stats().calls);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

TEST(FetchStreamTest, EveryItemOnceSpreadOverTheServers) {
  Replica a("127.0.0.1"), b("127.0.0.2"), c("127.0.0.3");
  auto client = ClientFor({&a, &b, &c});
  constexpr int kItems = 600;
  auto main = [&]() -> Task<absl::Status> {
    FetchStream stream(*client, {.concurrency = 24, .batch_size = 4});
    for (int i = 0; i < kItems; ++i) {
      stream.Push(Item(i, i % 10 == 0 ? "http://fail.test/5" : "http://slow.test/1"));
    }
    stream.Close();
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<FetchStreamResult> results, co_await Drain(stream));
    EXPECT_EQ(results.size(), static_cast<size_t>(kItems));
    for (const FetchStreamResult& r : results) {
      if (r.id % 10 == 0) {
        // A failed fetch is the item's result: not retried.
        EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kNotFound, "scripted failure 5"));
      } else {
        EXPECT_THAT(r.status, IsOk());
        EXPECT_EQ(r.response.status(), 200);
      }
      EXPECT_EQ(r.attempts, 1);
      EXPECT_FALSE(r.server.empty());
    }
    FetchStreamStats st = stream.stats();
    EXPECT_EQ(st.items, kItems);
    EXPECT_EQ(st.results, kItems);
    EXPECT_EQ(st.failed_calls, 0);
    EXPECT_EQ(st.answered_by_server.size(), 3u);
    for (const auto& [server, n] : st.answered_by_server) {
      EXPECT_GT(n, 0) << server;
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_EQ(a.stats->started() + b.stats->started() + c.stats->started(), kItems);
  EXPECT_LE(a.stats->max_running() + b.stats->max_running() + c.stats->max_running(), 3 * 24);
}

// Unary calls (waiting for a connection) until every replica has served one, so that the
// channel's round robin rotates over all of them.
Task<absl::Status> WarmUp(FetchClient& client, const std::vector<const Replica*>& replicas) {
  CallOptions call;
  call.wait_for_ready = true;
  v1::FetchRequest req;
  req.set_url("http://ok.test/warm-up");
  for (int i = 0; i < 1000; ++i) {
    bool all = true;
    for (const Replica* r : replicas) all = all && r->stats->started() > 0;
    if (all) co_return absl::OkStatus();
    absl::StatusOr<v1::FetchResponse> resp = co_await client.Fetch(req, call);
    CORIO_CO_RETURN_IF_ERROR(resp.status());
  }
  co_return absl::DeadlineExceededError("round robin never reached every replica");
}

TEST(FetchStreamTest, AServerShutDownMidRunLosesNoItem) {
  Replica a("127.0.0.1"), b("127.0.0.2"), c("127.0.0.3");
  // A and C answer at once; what reaches B waits until B is taken down.
  a.stats->OpenGate();
  c.stats->OpenGate();
  auto client = ClientFor({&a, &b, &c});
  constexpr int kItems = 300;
  std::thread killer;
  auto main = [&]() -> Task<absl::Status> {
    const std::vector<const Replica*> all = {&a, &b, &c};
    absl::Status warm = co_await WarmUp(*client, all);
    CORIO_CO_RETURN_IF_ERROR(warm);
    FetchStream stream(*client, {.concurrency = 30, .batch_size = 5});
    for (int i = 0; i < kItems; ++i) {
      // A few POSTs: not idempotent, so they fail rather than run twice if B had them.
      stream.Push(Item(i, "http://gate.test/", i % 20 == 7 ? "POST" : "GET"));
    }
    stream.Close();
    std::vector<FetchStreamResult> results;
    std::set<uint64_t> ids;
    for (;;) {
      // Once B holds work, take it down (no grace: its calls are cancelled).
      if (!killer.joinable() && b.stats->running() > 0) {
        killer = std::thread([&] { b.server->Shutdown(absl::ZeroDuration()); });
      }
      CORIO_CO_ASSIGN_OR_RETURN(std::optional<FetchStreamResult> r, co_await stream.Next());
      if (!r.has_value()) break;
      EXPECT_TRUE(ids.insert(r->id).second);
      results.push_back(*std::move(r));
    }
    EXPECT_EQ(results.size(), static_cast<size_t>(kItems));  // nothing dropped
    int ok = 0, failed_post = 0;
    for (const FetchStreamResult& r : results) {
      if (r.status.ok()) {
        ++ok;
        EXPECT_NE(r.server, b.address);
      } else {
        EXPECT_EQ(r.id % 20, 7u) << r.status;  // only a POST that B held may fail
        EXPECT_THAT(std::string(r.status.message()), HasSubstr("not idempotent"));
        ++failed_post;
      }
    }
    EXPECT_EQ(ok + failed_post, kItems);
    FetchStreamStats st = stream.stats();
    EXPECT_GT(st.failed_calls, 0);
    EXPECT_GT(st.retried_items, 0);
    EXPECT_EQ(st.answered_by_server.count(b.address), 0u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  ASSERT_TRUE(killer.joinable());
  killer.join();
  EXPECT_GT(b.stats->cancelled(), 0);  // B had fetches in flight when it went down
}

TEST(FetchStreamTest, CallErrorsThatRetryingCannotFixFailAtOnce) {
  FetchServiceOptions so;
  so.bearer_token = "right";
  Replica a("127.0.0.1", so);
  auto client = ClientFor({&a}, "wrong");
  auto main = [&]() -> Task<absl::Status> {
    FetchStream stream(*client, {.concurrency = 4, .batch_size = 2});
    for (int i = 0; i < 5; ++i) stream.Push(Item(i, "http://ok.test/"));
    stream.Close();
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<FetchStreamResult> results, co_await Drain(stream));
    EXPECT_EQ(results.size(), 5u);
    for (const FetchStreamResult& r : results) {
      EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kUnauthenticated));
      EXPECT_EQ(r.attempts, 1);
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_EQ(a.stats->started(), 0);
}

TEST(FetchStreamTest, NoServerLeftFailsEachItemAfterItsAttempts) {
  std::string gone;
  {
    Replica r("127.0.0.1");
    gone = r.address;
  }
  FetchClientOptions o;
  o.target = gone;
  auto client = *FetchClient::Create(o);
  auto main = [&]() -> Task<absl::Status> {
    FetchStream stream(*client, {.concurrency = 4, .batch_size = 2, .max_attempts = 3,
                                 .retry_backoff = absl::Milliseconds(10)});
    for (int i = 0; i < 5; ++i) stream.Push(Item(i, "http://ok.test/"));
    stream.Close();
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<FetchStreamResult> results, co_await Drain(stream));
    EXPECT_EQ(results.size(), 5u);
    for (const FetchStreamResult& r : results) {
      EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 3 calls")));
      EXPECT_EQ(r.attempts, 3);
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
}

TEST(FetchStreamTest, CancelGivesEveryOpenItemACancelledResult) {
  Replica a("127.0.0.1");
  auto client = ClientFor({&a});
  auto main = [&]() -> Task<absl::Status> {
    FetchStream stream(*client, {.concurrency = 4, .batch_size = 2});
    for (int i = 0; i < 10; ++i) stream.Push(Item(i, "http://stall.test/"));
    // Four stall on the server, six wait in the stream.
    while (a.stats->running() < 4) co_await Yield();
    stream.Cancel();
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<FetchStreamResult> results, co_await Drain(stream));
    EXPECT_EQ(results.size(), 10u);
    for (const FetchStreamResult& r : results) {
      EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kCancelled));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(corio::Run(main()), IsOk());
  EXPECT_TRUE(a.stats->WaitForCancelled(4));
  EXPECT_TRUE(a.server->dispatcher().WaitForIdle(absl::Seconds(30)));
}

}  // namespace
}  // namespace corio::fetch
