// FetchServiceImpl with a real gRPC server and client on loopback, its fetches on a LoopGroup
// through a scripted backend: every status path of the service.
#include "net/fetch/service.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/testing/scripted_backend.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::testing::HasSubstr;

class ServiceTest : public ::testing::Test {
 protected:
  void Start(int max_concurrent_fetches = 100, FetchServiceOptions service_options = {}) {
    group_ = *LoopGroup::Create(LoopGroup::Options{.threads = 2});
    stats_ = std::make_shared<testing::ScriptedStats>();
    Dispatcher::Options o;
    o.max_concurrent_fetches = max_concurrent_fetches;
    dispatcher_ = *Dispatcher::Create(*group_, testing::ScriptedBackendFactory(stats_), o);
    service_ = std::make_unique<FetchServiceImpl>(*dispatcher_, service_options);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_target_ = "127.0.0.1:" + std::to_string(port);
    channel_ = grpc::CreateChannel(channel_target_, grpc::InsecureChannelCredentials());
    stub_ = v1::FetchService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    if (dispatcher_) {
      EXPECT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
      dispatcher_->Stop();
    }
    if (group_) group_->Shutdown();
  }

  grpc::Status Fetch(const std::string& url, v1::FetchResponse* out,
                     grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext local;
    v1::FetchRequest req;
    req.set_url(url);
    return stub_->Fetch(ctx ? ctx : &local, req, out);
  }

  // All responses of a FetchMany call, and its status.
  grpc::Status FetchMany(const v1::FetchManyRequest& req, std::vector<v1::FetchResponse>* out,
                         grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext local;
    auto reader = stub_->FetchMany(ctx ? ctx : &local, req);
    v1::FetchResponse r;
    while (reader->Read(&r)) out->push_back(r);
    return reader->Finish();
  }

  std::unique_ptr<LoopGroup> group_;
  std::shared_ptr<testing::ScriptedStats> stats_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<FetchServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string channel_target_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FetchService::Stub> stub_;
};

v1::FetchManyRequest Many(const std::vector<std::string>& urls, int concurrency = 0) {
  v1::FetchManyRequest m;
  for (const std::string& u : urls) m.add_requests()->set_url(u);
  m.set_max_concurrency(concurrency);
  return m;
}

TEST_F(ServiceTest, FetchOk) {
  Start();
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://ok.test/hello", &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "ok /hello");
  EXPECT_EQ(r.final_url(), "http://ok.test/hello");
  EXPECT_EQ(r.index(), 0);
  EXPECT_TRUE(r.has_timing());
  EXPECT_FALSE(r.has_error());
}

TEST_F(ServiceTest, NamesTheServerInInitialMetadata) {
  FetchServiceOptions o;
  o.server_name = "replica-7";
  Start(100, o);
  grpc::ClientContext ctx;
  v1::FetchResponse r;
  ASSERT_TRUE(Fetch("http://ok.test/", &r, &ctx).ok());
  auto it = ctx.GetServerInitialMetadata().find(kFetchServerHeader);
  ASSERT_NE(it, ctx.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "replica-7");
  grpc::ClientContext ctx2;
  auto reader = stub_->FetchMany(&ctx2, Many({"http://ok.test/"}));
  ASSERT_TRUE(reader->Read(&r));
  it = ctx2.GetServerInitialMetadata().find(kFetchServerHeader);
  ASSERT_NE(it, ctx2.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "replica-7");
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(ServiceTest, HttpErrorStatusIsAResponse) {
  Start();
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://status.test/404", &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.status(), 404);
}

TEST_F(ServiceTest, FailedFetchFailsTheCallWithItsCodeAndATrailer) {
  Start();
  v1::FetchResponse r;
  grpc::ClientContext ctx;
  grpc::Status s = Fetch("http://fail.test/7", &r, &ctx);  // 7: PERMISSION_DENIED
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "scripted failure 7");
  auto it = ctx.GetServerTrailingMetadata().find(kFetchErrorTrailer);
  ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "1");
}

TEST_F(ServiceTest, MalformedRequestsAreInvalidArgument) {
  Start();
  v1::FetchResponse r;
  for (const char* url : {"htp://x", "http://", "http://[::1", "not a url", "http://x:99999/"}) {
    grpc::Status s = Fetch(url, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << url;
  }
  v1::FetchRequest req;
  req.set_url("http://ok.test/");
  req.set_method("FETCH");
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Fetch(&ctx, req, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("method"));
    // Not a failed fetch: no trailer.
    EXPECT_EQ(ctx.GetServerTrailingMetadata().count(kFetchErrorTrailer), 0u);
  }
  req.set_method("GET");
  req.mutable_timeout()->set_seconds(-1);
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Fetch(&ctx, req, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("timeout"));
  }
  v1::FetchManyRequest empty;
  std::vector<v1::FetchResponse> out;
  EXPECT_EQ(FetchMany(empty, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(stats_->started(), 0);  // nothing was fetched
}

TEST_F(ServiceTest, FetchManyAnswersEveryRequestOnceWithPerItemErrors) {
  Start();
  std::vector<std::string> urls;
  for (int i = 0; i < 120; ++i) {
    switch (i % 4) {
      case 0:
        urls.push_back("http://ok.test/" + std::to_string(i));
        break;
      case 1:
        urls.push_back("http://fail.test/14");  // UNAVAILABLE
        break;
      case 2:
        urls.push_back("htp://malformed/");
        break;
      default:
        urls.push_back("http://slow.test/5");
    }
  }
  std::vector<v1::FetchResponse> out;
  grpc::Status s = FetchMany(Many(urls, 8), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(out.size(), urls.size());
  std::set<int> seen;
  for (const v1::FetchResponse& r : out) {
    ASSERT_TRUE(seen.insert(r.index()).second) << "index twice: " << r.index();
    switch (r.index() % 4) {
      case 0:
        EXPECT_FALSE(r.has_error());
        EXPECT_EQ(r.body(), "ok /" + std::to_string(r.index()));
        break;
      case 1:
        EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
        EXPECT_EQ(r.error().message(), "scripted failure 14");
        break;
      case 2:
        EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
        break;
      default:
        EXPECT_EQ(r.status(), 200);
    }
  }
  EXPECT_EQ(stats_->started(), 90);  // the malformed ones were never fetched
  EXPECT_LE(stats_->max_running(), 8);
}

// A proto3 string must be UTF-8, or the whole message fails to parse at the client (and in
// FetchMany the stream with it). Reason phrases and messages from peers need not be.
TEST_F(ServiceTest, StringsFromPeersAreValidUtf8) {
  Start();
  const std::string kGroesse = "Gr\xc3\xbc\xc3\x9f"  // "Größe" in UTF-8
                               "e";
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://latin1.test/", &r);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.reason(), kGroesse);
  s = Fetch("http://latin1.test/fail", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "scripted failure: " + kGroesse);

  std::vector<v1::FetchResponse> out;
  s = FetchMany(Many({"http://ok.test/a", "http://latin1.test/", "http://latin1.test/fail",
                      "http://ok.test/b"}),
                &out);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  ASSERT_EQ(out.size(), 4u);
  for (const v1::FetchResponse& m : out) {
    if (m.index() == 1) {
      EXPECT_EQ(m.reason(), kGroesse);
    } else if (m.index() == 2) {
      EXPECT_EQ(m.error().message(), "scripted failure: " + kGroesse);
    }
  }
}

// A FetchMany holds a fetch slot only while a fetch of it runs: results waiting for a slow
// reader hold none. When the reader reads on and every slot is taken, the call waits for
// one (it neither stalls nor fails) and goes on once one is free.
TEST_F(ServiceTest, AStalledReaderHoldsNoSlotAndItsCallWaitsForOneWhenItReadsOn) {
  Start(/*max_concurrent_fetches=*/1);
  // A reader that does not read: no BDP window growth, so a 24 MiB result cannot be written.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetMaxReceiveMessageSize(-1);
  auto slow = v1::FetchService::NewStub(
      grpc::CreateCustomChannel(channel_target_, grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = slow->FetchMany(&ctx, Many({"http://big.test/25165824", "http://ok.test/b"}, 1));
  // Its first fetch ended; the result waits for the reader; the slot is free.
  ASSERT_TRUE(stats_->WaitForStarted(1));
  ASSERT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
  // So another call gets it (and keeps it).
  v1::FetchResponse held;
  grpc::Status held_status;
  std::thread unary([&] { held_status = Fetch("http://gate.test/", &held); });
  ASSERT_TRUE(stats_->WaitForRunning(1));
  // The reader reads on: its call needs a slot for request 1, none is free, it waits.
  v1::FetchResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.index(), 0);
  EXPECT_EQ(r.body().size(), 25165824u);
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (dispatcher_->slot_waiters() == 0 && absl::Now() < give_up) std::this_thread::yield();
  ASSERT_EQ(dispatcher_->slot_waiters(), 1);
  // It is ahead of calls that arrive now.
  EXPECT_EQ(Fetch("http://ok.test/late", &r).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  stats_->OpenGate();
  unary.join();
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.index(), 1);
  EXPECT_EQ(r.body(), "ok /b");
  EXPECT_FALSE(reader->Read(&r));
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stats_->started(), 3);
}

TEST_F(ServiceTest, FetchManyResultsThatCompleteTogetherAreNotHeldBackByAPendingOne) {
  // Results queued behind a write are sent with gRPC's buffer hint; the last queued one is not,
  // so all of them go out while the gated fetch is still running. Were one held back, the
  // reads below would wait until the call's deadline.
  Start();
  std::vector<std::string> urls;
  for (int i = 0; i < 40; ++i) urls.push_back("http://ok.test/" + std::to_string(i));
  urls.push_back("http://gate.test/");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_->FetchMany(&ctx, Many(urls, 41));
  std::set<int> seen;
  v1::FetchResponse r;
  while (seen.size() < 40) {
    ASSERT_TRUE(reader->Read(&r)) << "the stream ended after " << seen.size() << " results";
    EXPECT_LT(r.index(), 40);
    EXPECT_EQ(r.body(), "ok /" + std::to_string(r.index()));
    seen.insert(r.index());
  }
  EXPECT_TRUE(stats_->WaitForRunning(1));  // the gated fetch (it may start after the others end)
  stats_->OpenGate();
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.index(), 40);
  EXPECT_FALSE(reader->Read(&r));
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ServiceTest, FetchManyKeepsToItsConcurrency) {
  Start();
  std::vector<std::string> urls(200, "http://slow.test/1");
  std::vector<v1::FetchResponse> out;
  ASSERT_TRUE(FetchMany(Many(urls, 3), &out).ok());
  EXPECT_EQ(out.size(), 200u);
  EXPECT_LE(stats_->max_running(), 3);
}

TEST_F(ServiceTest, SizeOnlyModeReturnsNoBody) {
  Start();
  v1::FetchManyRequest m = Many({"http://big.test/5000"});
  m.mutable_requests(0)->set_body_mode(v1::BODY_MODE_SIZE_ONLY);
  std::vector<v1::FetchResponse> out;
  ASSERT_TRUE(FetchMany(m, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body_size(), 5000);
  EXPECT_TRUE(out[0].body().empty());
}

TEST_F(ServiceTest, OverTheServerBoundIsResourceExhausted) {
  Start(/*max_concurrent_fetches=*/2);
  grpc::ClientContext busy_ctx;
  auto busy = stub_->FetchMany(&busy_ctx, Many({"http://stall.test/", "http://stall.test/"}, 2));
  ASSERT_TRUE(stats_->WaitForRunning(2));
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://ok.test/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("2 concurrent fetch slots"));
  std::vector<v1::FetchResponse> out;
  EXPECT_EQ(FetchMany(Many({"http://ok.test/"}), &out).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Freeing the slots (cancelling the busy call) admits calls again.
  busy_ctx.TryCancel();
  EXPECT_EQ(busy->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
  EXPECT_TRUE(Fetch("http://ok.test/", &r).ok());
}

TEST_F(ServiceTest, BearerTokenIsRequiredWhenSet) {
  FetchServiceOptions o;
  o.bearer_token = "s3cret";
  Start(100, o);
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://ok.test/", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer s3cre");
    EXPECT_EQ(Fetch("http://ok.test/", &r, &ctx).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer s3cret");
    EXPECT_TRUE(Fetch("http://ok.test/", &r, &ctx).ok());
  }
  {
    grpc::ClientContext ctx;  // the scheme is case-insensitive (RFC 9110, 11.1)
    ctx.AddMetadata("authorization", "bearer s3cret");
    EXPECT_TRUE(Fetch("http://ok.test/", &r, &ctx).ok());
  }
  {
    std::vector<v1::FetchResponse> out;
    EXPECT_EQ(FetchMany(Many({"http://ok.test/"}), &out).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer s3cret");
    EXPECT_TRUE(FetchMany(Many({"http://ok.test/"}), &out, &ctx).ok());
    EXPECT_EQ(out.size(), 1u);
  }
  EXPECT_EQ(stats_->started(), 3);
}

TEST_F(ServiceTest, ClientDeadlineCancelsTheFetch) {
  Start();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  v1::FetchResponse r;
  grpc::Status s = Fetch("http://stall.test/", &r, &ctx);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The fetch ended (cancelled, or at the same deadline) and gave its slot back.
  EXPECT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
  EXPECT_EQ(stats_->cancelled() + stats_->deadlines(), 1);
}

TEST_F(ServiceTest, ClientDeadlineEndsAStream) {
  Start();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  std::vector<v1::FetchResponse> out;
  grpc::Status s = FetchMany(
      Many({"http://ok.test/", "http://stall.test/", "http://stall.test/"}, 3), &out, &ctx);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
  EXPECT_EQ(stats_->cancelled() + stats_->deadlines(), 2);
}

TEST_F(ServiceTest, ClientCancelMidStreamCancelsTheFetchesInFlight) {
  Start();
  grpc::ClientContext ctx;
  auto reader = stub_->FetchMany(
      &ctx, Many({"http://ok.test/", "http://stall.test/", "http://stall.test/",
                  "http://stall.test/", "http://stall.test/"},
                 3));
  v1::FetchResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.index(), 0);
  ASSERT_TRUE(stats_->WaitForRunning(3));  // three stalls in flight (concurrency 3)
  ctx.TryCancel();
  while (reader->Read(&r)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(stats_->WaitForCancelled(3));
  EXPECT_TRUE(dispatcher_->WaitForIdle(absl::Seconds(30)));
  EXPECT_EQ(stats_->started(), 4);  // the fifth never started
  EXPECT_EQ(dispatcher_->in_use(), 0);
}

TEST_F(ServiceTest, ManyConcurrentCallsFromManyThreads) {
  Start();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        v1::FetchResponse r;
        grpc::ClientContext ctx;
        v1::FetchRequest req;
        req.set_url("http://ok.test/" + std::to_string(t * 1000 + i));
        if (stub_->Fetch(&ctx, req, &r).ok() && r.body() == "ok /" + std::to_string(t * 1000 + i))
          ++ok;
        std::vector<v1::FetchResponse> out;
        grpc::ClientContext ctx2;
        auto reader = stub_->FetchMany(&ctx2, Many({"http://ok.test/a", "http://slow.test/1"}));
        while (reader->Read(&r)) out.push_back(r);
        if (reader->Finish().ok() && out.size() == 2) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 6 * 40 * 2);
}

}  // namespace
}  // namespace corio::fetch
