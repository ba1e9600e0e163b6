// dns::Resolver against FakeDnsServer on loopback: answers, CNAME chains, failures, caching
// with TTLs, shared lookups, timeouts, cancellation, shutdown — and no fd left open.
#include "net/dns/resolver.h"

#include <coroutine>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/gather.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/dns_server.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::dns {
namespace {

using ::corio::testing::FakeDnsServer;
using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::RunTaskRealTime;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Strings(const std::vector<SocketAddress>& addrs) {
  std::vector<std::string> out;
  for (const SocketAddress& a : addrs) out.push_back(a.ToString());
  return out;
}

struct Env {
  std::unique_ptr<FakeDnsServer> dns;
  std::unique_ptr<Resolver> resolver;
};

absl::StatusOr<Env> MakeEnv(ResolverOptions options = ResolverOptions()) {
  Env env;
  CORIO_ASSIGN_OR_RETURN(env.dns, FakeDnsServer::Start());
  options.servers = {env.dns->address()};
  options.use_hosts_file = false;
  CORIO_ASSIGN_OR_RETURN(env.resolver, Resolver::Create(options));
  return env;
}

// A lookup of both families sends two queries (A and AAAA).
constexpr int kQueriesPerLookup = 2;

class ResolverTest : public testing::FdLeakCheck {};

TEST_F(ResolverTest, BothFamiliesIpv6FirstWithThePort) {
  auto main = []() -> Task<absl::StatusOr<std::vector<std::string>>> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddA("api.test", "10.0.0.1");
    env.dns->AddA("api.test", "10.0.0.2");
    env.dns->AddAAAA("api.test", "fd00::1");
    CORIO_CO_ASSIGN_OR_RETURN(auto addrs, co_await env.resolver->Resolve("API.test", 443));
    co_return Strings(addrs);
  };
  absl::StatusOr<std::vector<std::string>> got = RunTask(main());
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(*got, ElementsAre("[fd00::1]:443", "10.0.0.1:443", "10.0.0.2:443"));
}

TEST_F(ResolverTest, FollowsCnameChainsAndHonoursTheFamily) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddCname("www.test", "edge.test");
    env.dns->AddCname("edge.test", "origin.test");
    env.dns->AddA("origin.test", "192.0.2.7");
    env.dns->AddAAAA("origin.test", "2001:db8::7");
    CORIO_CO_ASSIGN_OR_RETURN(auto v4, co_await env.resolver->Resolve("www.test", 80, AF_INET));
    EXPECT_THAT(Strings(v4), ElementsAre("192.0.2.7:80"));
    CORIO_CO_ASSIGN_OR_RETURN(auto v6, co_await env.resolver->Resolve("www.test", 80, AF_INET6));
    EXPECT_THAT(Strings(v6), ElementsAre("[2001:db8::7]:80"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, FailuresAreClearErrorsNamingTheHost) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->SetNxDomain("nope.test");
    env.dns->SetServFail("broken.test");
    env.dns->AddCname("dangling.test", "gone.test");
    absl::StatusOr<std::vector<SocketAddress>> r = co_await env.resolver->Resolve("nope.test", 80);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound, "dns: no such host \"nope.test\""));
    r = co_await env.resolver->Resolve("broken.test", 80);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("\"broken.test\"")));
    r = co_await env.resolver->Resolve("dangling.test", 80);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
    r = co_await env.resolver->Resolve("bad name", 80);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"bad name\"")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, NumericHostsNeedNoQuery) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    CORIO_CO_ASSIGN_OR_RETURN(auto a, co_await env.resolver->Resolve("127.0.0.1", 8080));
    EXPECT_THAT(Strings(a), ElementsAre("127.0.0.1:8080"));
    CORIO_CO_ASSIGN_OR_RETURN(auto b, co_await env.resolver->Resolve("[::1]", 8080));
    EXPECT_THAT(Strings(b), ElementsAre("[::1]:8080"));
    EXPECT_EQ(env.dns->total_queries(), 0);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, CachesForTheTtlAndFailuresForTheNegativeTtl) {
  auto main = []() -> Task<absl::Status> {
    ResolverOptions options;
    options.negative_ttl = absl::Seconds(5);
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv(options));
    env.dns->AddA("ttl.test", "10.1.1.1", /*ttl_seconds=*/60);
    CORIO_CO_RETURN_IF_ERROR(co_await env.resolver->Resolve("ttl.test", 1));
    CORIO_CO_RETURN_IF_ERROR(co_await env.resolver->Resolve("ttl.test", 2));
    EXPECT_EQ(env.dns->queries("ttl.test"), kQueriesPerLookup);  // the second: from the cache
    EXPECT_EQ(env.resolver->stats().cache_hits, 1u);
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(61)));  // virtual time
    CORIO_CO_RETURN_IF_ERROR(co_await env.resolver->Resolve("ttl.test", 3));
    EXPECT_EQ(env.dns->queries("ttl.test"), 2 * kQueriesPerLookup);  // expired: asked again

    (void)co_await env.resolver->Resolve("missing.test", 1);
    (void)co_await env.resolver->Resolve("missing.test", 1);
    EXPECT_EQ(env.dns->queries("missing.test"), kQueriesPerLookup);  // negative cache
    env.dns->AddA("missing.test", "10.2.2.2");
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(6)));
    CORIO_CO_ASSIGN_OR_RETURN(auto now, co_await env.resolver->Resolve("missing.test", 1));
    EXPECT_THAT(Strings(now), ElementsAre("10.2.2.2:1"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, IdenticalLookupsInFlightShareOneQuery) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddA("busy.test", "10.3.3.3");
    env.dns->SetDelay("busy.test", absl::Milliseconds(50));
    std::vector<Task<absl::StatusOr<std::vector<SocketAddress>>>> lookups;
    for (int i = 0; i < 20; ++i) lookups.push_back(env.resolver->Resolve("busy.test", 80));
    CORIO_CO_ASSIGN_OR_RETURN(auto all, co_await Gather(std::move(lookups)));
    EXPECT_EQ(all.size(), 20u);
    EXPECT_EQ(env.dns->queries("busy.test"), kQueriesPerLookup);
    EXPECT_EQ(env.resolver->stats().shared, 19u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, UnansweredQueriesTimeOut) {
  // c-ares keeps its own (real) time for tries: a short try timeout, on real time.
  auto main = []() -> Task<absl::Status> {
    ResolverOptions options;
    options.try_timeout = absl::Milliseconds(30);
    options.tries = 2;
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv(options));
    env.dns->SetDrop("silent.test");
    absl::StatusOr<std::vector<SocketAddress>> r =
        co_await env.resolver->Resolve("silent.test", 80);
    EXPECT_GE(env.dns->queries("silent.test"), 2);
    co_return r.status();
  };
  EXPECT_THAT(RunTaskRealTime(main()), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                                "dns: timed out resolving \"silent.test\""));
}

TEST_F(ResolverTest, TheLookupTimeoutBoundsASlowServer) {
  auto main = []() -> Task<absl::Status> {
    ResolverOptions options;
    options.lookup_timeout = absl::Seconds(3);
    options.try_timeout = absl::Seconds(30);
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv(options));
    env.dns->AddA("slow.test", "10.4.4.4");
    env.dns->SetDelay("slow.test", absl::Seconds(20));
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<std::vector<SocketAddress>> r = co_await env.resolver->Resolve("slow.test", 80);
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("slow.test")));
}

TEST_F(ResolverTest, CancelledLookupsReturnAtOnceAndTheAnswerStillFillsTheCache) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddA("later.test", "10.5.5.5");
    env.dns->SetDelay("later.test", absl::Seconds(2));
    JoinHandle<absl::StatusOr<std::vector<SocketAddress>>> h =
        Spawn(env.resolver->Resolve("later.test", 80));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
    h.Cancel();
    absl::StatusOr<std::vector<SocketAddress>> r = co_await std::move(h);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(2)));  // the answer arrives
    CORIO_CO_ASSIGN_OR_RETURN(auto cached, co_await env.resolver->Resolve("later.test", 80));
    EXPECT_THAT(Strings(cached), ElementsAre("10.5.5.5:80"));
    EXPECT_EQ(env.dns->queries("later.test"), kQueriesPerLookup);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, DestroyingTheResolverCancelsPendingLookups) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddA("pending.test", "10.6.6.6");
    env.dns->SetDelay("pending.test", absl::Seconds(5));
    JoinHandle<absl::StatusOr<std::vector<SocketAddress>>> h =
        Spawn(env.resolver->Resolve("pending.test", 80));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
    env.resolver.reset();
    absl::StatusOr<std::vector<SocketAddress>> r = co_await std::move(h);
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(ResolverTest, TruncatedAnswersEndInAClearErrorNotAHang) {
  // TC set: c-ares retries over TCP, which the fake server refuses. That must end the lookup
  // with an error of its own, well before the lookup timeout would have ended a hang.
  auto main = []() -> Task<absl::Status> {
    ResolverOptions options;
    options.lookup_timeout = absl::Seconds(10);
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv(options));
    env.dns->AddA("big.test", "10.7.7.7");
    env.dns->SetTruncated("big.test");
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<std::vector<SocketAddress>> r = co_await env.resolver->Resolve("big.test", 80);
    EXPECT_LT(EventLoop::Current()->Now() - start, options.lookup_timeout);
    co_return r.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("\"big.test\"")));
}

// A hosts file of the test's own, so the test does not depend on the machine's /etc/hosts.
std::string WriteHostsFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

TEST_F(ResolverTest, HostsFileNamesAreAnsweredWithoutAQuery) {
  auto main = []() -> Task<absl::Status> {
    ResolverOptions options;
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv(options));
    env.dns->AddA("box.test", "10.8.8.8");  // what the server would say
    options.servers = {env.dns->address()};
    options.hosts_file = WriteHostsFile("hosts_resolver", "10.9.9.9 box.test\nfd00::9 box.test\n");
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, Resolver::Create(options));
    CORIO_CO_ASSIGN_OR_RETURN(auto both, co_await resolver->Resolve("Box.Test", 80));
    EXPECT_THAT(Strings(both), ElementsAre("[fd00::9]:80", "10.9.9.9:80"));
    CORIO_CO_ASSIGN_OR_RETURN(auto v4, co_await resolver->Resolve("box.test", 81, AF_INET));
    EXPECT_THAT(Strings(v4), ElementsAre("10.9.9.9:81"));
    EXPECT_EQ(env.dns->total_queries(), 0);
    // Without the hosts file the same name goes to the server.
    options.use_hosts_file = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto plain, Resolver::Create(options));
    CORIO_CO_ASSIGN_OR_RETURN(auto asked, co_await plain->Resolve("box.test", 80));
    EXPECT_THAT(Strings(asked), ElementsAre("10.8.8.8:80"));
    EXPECT_EQ(env.dns->total_queries(), kQueriesPerLookup);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, AMissingHostsFileMeansAskingTheServers) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    env.dns->AddA("box.test", "10.8.8.8");
    ResolverOptions options;
    options.servers = {env.dns->address()};
    options.hosts_file = WriteHostsFile("unused", "") + ".does-not-exist";
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, Resolver::Create(options));
    CORIO_CO_ASSIGN_OR_RETURN(auto addrs, co_await resolver->Resolve("box.test", 80));
    EXPECT_THAT(Strings(addrs), ElementsAre("10.8.8.8:80"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ResolverTest, LocalhostIsLoopbackWithoutAQueryOrAFile) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Env env, MakeEnv());
    // Neither a server nor a hosts file may change what localhost means.
    env.dns->AddA("localhost", "10.1.2.3");
    env.dns->AddA("api.localhost", "10.1.2.3");
    ResolverOptions options;
    options.servers = {env.dns->address()};
    options.hosts_file =
        WriteHostsFile("hosts_localhost", "10.3.3.3 localhost\n10.3.3.3 app.localhost\n");
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, Resolver::Create(options));
    for (const char* name : {"localhost", "LocalHost.", "app.localhost", "a.b.LOCALHOST."}) {
      absl::StatusOr<std::vector<SocketAddress>> both = co_await resolver->Resolve(name, 8080);
      EXPECT_THAT(both, IsOk()) << name;
      if (both.ok()) {
        EXPECT_THAT(Strings(*both), ElementsAre("[::1]:8080", "127.0.0.1:8080"));
      }
    }
    CORIO_CO_ASSIGN_OR_RETURN(auto v4, co_await resolver->Resolve("localhost", 1, AF_INET));
    EXPECT_THAT(Strings(v4), ElementsAre("127.0.0.1:1"));
    CORIO_CO_ASSIGN_OR_RETURN(auto v6, co_await resolver->Resolve("localhost", 1, AF_INET6));
    EXPECT_THAT(Strings(v6), ElementsAre("[::1]:1"));
    EXPECT_EQ(env.dns->total_queries(), 0);
    // Names that merely contain "localhost" are not special.
    env.dns->AddA("localhost.test", "10.4.4.4");
    env.dns->AddA("notlocalhost", "10.5.5.5");
    CORIO_CO_ASSIGN_OR_RETURN(auto other, co_await resolver->Resolve("localhost.test", 1));
    EXPECT_THAT(Strings(other), ElementsAre("10.4.4.4:1"));
    CORIO_CO_ASSIGN_OR_RETURN(auto other2, co_await resolver->Resolve("notlocalhost", 1));
    EXPECT_THAT(Strings(other2), ElementsAre("10.5.5.5:1"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A coroutine that is not a corio task, started at once and destroyed by hand, so a lookup can
// be left pending across the loop's stop and destruction without leaking a frame.
struct Driver {
  struct promise_type {
    Driver get_return_object() {
      return Driver{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

Driver LookUp(Resolver* r, absl::StatusOr<std::vector<SocketAddress>>* out, bool* done) {
  *out = co_await r->Resolve("pending.test", 80);
  *done = true;
}

struct Teardown {
  std::unique_ptr<FakeDnsServer> dns;
  std::unique_ptr<Resolver> resolver;
};

Task<absl::Status> StartPendingLookup(Teardown* t, absl::StatusOr<std::vector<SocketAddress>>* out,
                                      bool* done, Driver* driver) {
  CORIO_CO_ASSIGN_OR_RETURN(t->dns, FakeDnsServer::Start());
  t->dns->AddA("pending.test", "10.6.6.6");
  t->dns->SetDelay("pending.test", absl::Hours(1));
  ResolverOptions options;
  options.servers = {t->dns->address()};
  options.use_hosts_file = false;
  CORIO_CO_ASSIGN_OR_RETURN(t->resolver, Resolver::Create(options));
  *driver = LookUp(t->resolver.get(), out, done);  // suspends: the answer is an hour away
  co_return absl::OkStatus();
}

TEST_F(ResolverTest, DestroyedWhileItsLoopIsStoppedItWakesTheWaiterOnThatLoop) {
  // Issue 10 #5: waking used EventLoop::Current(), null when no loop runs on the thread.
  auto loop = EventLoop::Create();
  ASSERT_THAT(loop.status(), IsOk());
  Teardown t;
  absl::StatusOr<std::vector<SocketAddress>> result = absl::UnknownError("not yet");
  bool done = false;
  Driver driver;
  ASSERT_THAT(corio::Run(**loop, StartPendingLookup(&t, &result, &done, &driver)), IsOk());
  ASSERT_FALSE(done);
  t.resolver.reset();  // no loop is running here
  EXPECT_FALSE(done);  // woken on a later turn of its own loop, not inline
  ASSERT_THAT((*loop)->RunUntilIdle(), IsOk());
  EXPECT_TRUE(done);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
  driver.h.destroy();
  t.dns.reset();
}

TEST_F(ResolverTest, AResolverInLoopLocalStateMayOutliveAPendingLookupIntoTheLoopsEnd) {
  // The same, with the resolver kept in EventLoop::Local and destroyed by ~EventLoop.
  auto loop = EventLoop::Create();
  ASSERT_THAT(loop.status(), IsOk());
  absl::StatusOr<std::vector<SocketAddress>> result = absl::UnknownError("not yet");
  bool done = false;
  Driver driver;
  Teardown& t = (*loop)->Local<Teardown>();
  ASSERT_THAT(corio::Run(**loop, StartPendingLookup(&t, &result, &done, &driver)), IsOk());
  loop->reset();       // destroys t: the resolver, with the lookup pending
  EXPECT_FALSE(done);  // its wake-up was dropped with the loop
  driver.h.destroy();
}

}  // namespace
}  // namespace corio::dns
