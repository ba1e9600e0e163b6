// ConnectToHost / ConnectToAny: Happy Eyeballs (interleaving, the stagger, losers stopped and
// closed), the address filter, errors that name every address, timeouts and cancellation,
// without leaked sockets. Timing is asserted only where no kernel I/O is involved: a scripted
// dialer (ConnectOptions::dial) stands in for TCP there; real sockets are used only where the
// outcome does not depend on when the kernel gets to them (refused ports, a TcpBlackhole).
#include "net/connect.h"

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/dns_server.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tcp_blackhole.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ConnectTest : public testing::FdLeakCheck {};

SocketAddress Addr(const char* text) { return *SocketAddress::Parse(text); }

// A port on `ip` where nothing listens (connecting is refused, whenever it is tried).
SocketAddress RefusingAddress(const char* ip) {
  SocketAddress a = *SocketAddress::FromIp(ip, 0);
  const int s = socket(a.family(), SOCK_STREAM, 0);
  bind(s, a.sockaddr_ptr(), a.socklen());
  const SocketAddress bound = *SocketAddress::LocalOf(s);
  close(s);
  return bound;
}

// What the scripted dialer does for an address: fail at once, hang until cancelled, or
// connect after `after` (a TcpStream over one end of a socketpair).
struct Script {
  enum What { kRefuse, kHang, kConnect };
  struct Step {
    What what = kHang;
    absl::Duration after = absl::ZeroDuration();
  };
  std::map<std::string, Step> steps;
  std::vector<std::string> dialled;
  int cancelled = 0;
  std::vector<int> peer_fds;
  ~Script() {
    for (int fd : peer_fds) close(fd);
  }
};

Task<absl::StatusOr<TcpStream>> Dial(Script* script, SocketAddress addr) {
  script->dialled.push_back(addr.ToString());
  const Script::Step step = script->steps[addr.ToString()];
  absl::Status waited = co_await Sleep(step.what == Script::kHang ? absl::Hours(1000) : step.after);
  if (!waited.ok()) {
    ++script->cancelled;
    co_return waited;
  }
  if (step.what == Script::kRefuse) {
    co_return absl::UnavailableError(
        absl::StrCat("connect ", addr.ToString(), ": Connection refused"));
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    co_return absl::InternalError("socketpair");
  }
  script->peer_fds.push_back(sv[1]);
  co_return TcpStream::Adopt(sv[0], addr);
}

ConnectOptions Scripted(Script* script) {
  ConnectOptions options;
  // Forwards to a coroutine with parameters (the std::function may not outlive the task).
  options.dial = [script](SocketAddress addr) { return Dial(script, addr); };
  return options;
}

TEST(InterleaveTest, AlternatesFamiliesStartingWithTheFirst) {
  std::vector<SocketAddress> in = {Addr("[::1]:1"), Addr("[::2]:1"), Addr("[::3]:1"),
                                   Addr("1.1.1.1:1"), Addr("2.2.2.2:1")};
  std::vector<std::string> out;
  for (const SocketAddress& a : InterleaveFamilies(in)) out.push_back(a.ToString());
  EXPECT_THAT(out, ElementsAre("[::1]:1", "1.1.1.1:1", "[::2]:1", "2.2.2.2:1", "[::3]:1"));
}

TEST_F(ConnectTest, ARefusedFirstAddressFallsBackAtOnce) {
  auto main = []() -> Task<absl::Status> {
    Script script;
    script.steps["[::1]:80"] = {Script::kRefuse};
    script.steps["127.0.0.1:80"] = {Script::kConnect};
    const absl::Time start = EventLoop::Current()->Now();
    std::vector<SocketAddress> addrs = {Addr("[::1]:80"), Addr("127.0.0.1:80")};
    CORIO_CO_ASSIGN_OR_RETURN(
        TcpStream conn,
        co_await ConnectToAny(std::move(addrs), std::string("dual.test:80"), Scripted(&script)));
    EXPECT_EQ(conn.peer().ToString(), "127.0.0.1:80");
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::ZeroDuration());  // no stagger wait
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ConnectTest, AHangingFirstAddressLosesAfterTheStaggerAndIsStopped) {
  auto main = []() -> Task<absl::Status> {
    Script script;
    script.steps["[::1]:80"] = {Script::kHang};
    script.steps["127.0.0.1:80"] = {Script::kConnect, absl::Milliseconds(10)};
    const absl::Time start = EventLoop::Current()->Now();
    std::vector<SocketAddress> addrs = {Addr("[::1]:80"), Addr("127.0.0.1:80")};
    CORIO_CO_ASSIGN_OR_RETURN(
        TcpStream conn,
        co_await ConnectToAny(std::move(addrs), std::string("dual.test:80"), Scripted(&script)));
    EXPECT_EQ(conn.peer().ToString(), "127.0.0.1:80");
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Milliseconds(260));
    EXPECT_EQ(script.cancelled, 1);  // the loser was stopped (and waited for)
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ConnectTest, AttemptsStartEveryStaggerInInterleavedOrder) {
  auto main = []() -> Task<absl::Status> {
    Script script;  // everything hangs but the last, which connects at once
    script.steps["10.0.0.3:80"] = {Script::kConnect};
    const absl::Time start = EventLoop::Current()->Now();
    std::vector<SocketAddress> addrs = {Addr("[fd00::1]:80"), Addr("[fd00::2]:80"),
                                        Addr("10.0.0.1:80"), Addr("10.0.0.3:80")};
    ConnectOptions options = Scripted(&script);
    options.attempt_delay = absl::Milliseconds(100);
    CORIO_CO_ASSIGN_OR_RETURN(
        TcpStream conn,
        co_await ConnectToAny(std::move(addrs), std::string("many.test:80"), options));
    EXPECT_EQ(conn.peer().ToString(), "10.0.0.3:80");
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Milliseconds(300));
    EXPECT_THAT(script.dialled,
                ElementsAre("[fd00::1]:80", "10.0.0.1:80", "[fd00::2]:80", "10.0.0.3:80"));
    EXPECT_EQ(script.cancelled, 3);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ConnectTest, TheAddressFilterSeesEveryAddressBeforeItIsDialled) {
  auto main = []() -> Task<absl::Status> {
    Script script;
    script.steps["[::1]:80"] = {Script::kConnect};
    script.steps["10.0.0.1:80"] = {Script::kConnect};
    ConnectOptions options = Scripted(&script);
    std::vector<std::string> seen;
    options.address_filter = [&seen](const SocketAddress& a) {
      seen.push_back(a.ToString());
      return a.is_v6() ? absl::PermissionDeniedError(
                             absl::StrCat("address ", a.ToString(), " refused by policy"))
                       : absl::OkStatus();
    };
    std::vector<SocketAddress> addrs = {Addr("[::1]:80"), Addr("10.0.0.1:80")};
    CORIO_CO_ASSIGN_OR_RETURN(
        TcpStream conn, co_await ConnectToAny(std::move(addrs), std::string("f.test:80"), options));
    EXPECT_EQ(conn.peer().ToString(), "10.0.0.1:80");
    EXPECT_THAT(seen, ElementsAre("[::1]:80", "10.0.0.1:80"));
    EXPECT_THAT(script.dialled, ElementsAre("10.0.0.1:80"));  // the refused one never was
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ConnectTest, WhenTheFilterRefusesEveryAddressTheFirstRefusalNamesIt) {
  auto main = []() -> Task<absl::Status> {
    Script script;
    ConnectOptions options = Scripted(&script);
    options.address_filter = [](const SocketAddress& a) {
      return absl::PermissionDeniedError("private range");  // does not name the address
    };
    std::vector<SocketAddress> addrs = {Addr("10.0.0.1:80"), Addr("10.0.0.2:80")};
    absl::StatusOr<TcpStream> conn =
        co_await ConnectToAny(std::move(addrs), std::string("in.test:80"), options);
    EXPECT_TRUE(script.dialled.empty());
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "connect in.test:80: address 10.0.0.1:80 refused: private range"));
}

TEST_F(ConnectTest, ConnectToHostFiltersResolvedAddresses) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, testing::FakeDnsServer::Start());
    dns->AddA("inside.test", "10.1.2.3");
    dns::ResolverOptions ro;
    ro.servers = {dns->address()};
    ro.use_hosts_file = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, dns::Resolver::Create(ro));
    ConnectOptions options;
    options.address_filter = [](const SocketAddress& a) {
      return absl::PermissionDeniedError(absl::StrCat("address ", a.ToString(), " is private"));
    };
    absl::StatusOr<TcpStream> conn =
        co_await ConnectToHost(*resolver, "inside.test", 8080, options);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kPermissionDenied, "address 10.1.2.3:8080 is private"));
}

TEST_F(ConnectTest, ConnectToHostOverRealSockets) {
  // [::1] refuses (or is unavailable), 127.0.0.1 accepts. Real time: on virtual time a loaded
  // machine could let the clock reach the connect timeout before the kernel answers.
  auto main = []() -> Task<absl::Status> {
    const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SocketAddress at = SocketAddress::Loopback4(0);
    if (bind(l, at.sockaddr_ptr(), at.socklen()) != 0 || listen(l, 4) != 0) {
      co_return absl::InternalError("listen");
    }
    const uint16_t port = SocketAddress::LocalOf(l)->port();
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, testing::FakeDnsServer::Start());
    dns->AddAAAA("dual.test", "::1");
    dns->AddA("dual.test", "127.0.0.1");
    dns::ResolverOptions ro;
    ro.servers = {dns->address()};
    ro.use_hosts_file = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, dns::Resolver::Create(ro));
    absl::StatusOr<TcpStream> conn = co_await ConnectToHost(*resolver, "dual.test", port);
    close(l);
    if (!conn.ok()) co_return conn.status();
    EXPECT_EQ(conn->peer().ToString(), absl::StrCat("127.0.0.1:", port));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(testing::RunTaskRealTime(main()), IsOk());
}

TEST_F(ConnectTest, EveryAddressFailingIsListed) {
  auto main = []() -> Task<absl::Status> {
    const SocketAddress a = RefusingAddress("::1");
    const SocketAddress b = RefusingAddress("127.0.0.1");
    std::vector<SocketAddress> addrs = {a, b};
    absl::StatusOr<TcpStream> conn =
        co_await ConnectToAny(std::move(addrs), std::string("both.test:80"), ConnectOptions());
    EXPECT_THAT(conn.status().message(), HasSubstr(a.ToString()));
    EXPECT_THAT(conn.status().message(), HasSubstr(b.ToString()));
    co_return conn.status();
  };
  // Real time, as above: refusals come from the kernel.
  EXPECT_THAT(testing::RunTaskRealTime(main()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("connect both.test:80: all 2 addresses failed")));
}

TEST_F(ConnectTest, TheOverallTimeoutBoundsEverything) {
  absl::StatusOr<std::unique_ptr<testing::TcpBlackhole>> hole = testing::TcpBlackhole::Create();
  ASSERT_THAT(hole.status(), IsOk());
  auto main = [](SocketAddress addr) -> Task<absl::Status> {
    ConnectOptions options;
    options.timeout = absl::Seconds(5);
    std::vector<SocketAddress> addrs = {addr};
    absl::StatusOr<TcpStream> conn =
        co_await ConnectToAny(std::move(addrs), std::string("hole.test:1"), options);
    co_return conn.status();
  };
  EXPECT_THAT(
      RunTask(main((*hole)->address())),
      StatusIs(absl::StatusCode::kDeadlineExceeded, "connect hole.test:1: timed out after 5s"));
}

TEST_F(ConnectTest, CancellationStopsEveryAttempt) {
  absl::StatusOr<std::unique_ptr<testing::TcpBlackhole>> hole = testing::TcpBlackhole::Create();
  ASSERT_THAT(hole.status(), IsOk());
  auto main = [](SocketAddress addr) -> Task<absl::Status> {
    std::vector<SocketAddress> addrs = {addr, addr, addr};
    JoinHandle<absl::StatusOr<TcpStream>> h =
        Spawn(ConnectToAny(std::move(addrs), std::string("hole.test:1"), ConnectOptions()));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));  // all three attempts started
    h.Cancel();
    absl::StatusOr<TcpStream> conn = co_await std::move(h);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main((*hole)->address())), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(ConnectTest, DnsFailuresComeThrough) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, testing::FakeDnsServer::Start());
    dns::ResolverOptions options;
    options.servers = {dns->address()};
    options.use_hosts_file = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, dns::Resolver::Create(options));
    absl::StatusOr<TcpStream> conn = co_await ConnectToHost(*resolver, "nope.invalid", 80);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kNotFound, "dns: no such host \"nope.invalid\""));
}

}  // namespace
}  // namespace corio
