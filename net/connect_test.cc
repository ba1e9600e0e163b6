// Happy Eyeballs over loopback: interleaving, the stagger, losers stopped and closed, errors
// that name every address, timeouts and cancellation, without leaked sockets.
#include "net/connect.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_listener.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/dns_server.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;


class ConnectTest : public testing::FdLeakCheck {};

// A port on `ip` where nothing listens (connecting is refused).
SocketAddress RefusingAddress(const char* ip) {
  SocketAddress a = *SocketAddress::FromIp(ip, 0);
  const int s = socket(a.family(), SOCK_STREAM, 0);
  bind(s, a.sockaddr_ptr(), a.socklen());
  const SocketAddress bound = *SocketAddress::LocalOf(s);
  close(s);  // nothing listens there now
  return bound;
}

// A listener whose accept queue is full: connecting to it hangs.
struct Blackhole {
  TcpListener listener;
  std::vector<TcpStream> queued;
};
Task<absl::StatusOr<std::unique_ptr<Blackhole>>> MakeBlackhole(SocketAddress at) {
  auto b = std::make_unique<Blackhole>();
  CORIO_CO_ASSIGN_OR_RETURN(b->listener, TcpListener::Bind(at, /*backlog=*/0));
  for (int i = 0; i < 16; ++i) {
    absl::StatusOr<TcpStream> c =
        co_await TcpStream::Connect(b->listener.local_address(), absl::Milliseconds(100));
    if (absl::IsDeadlineExceeded(c.status())) co_return b;  // full now
    if (!c.ok()) co_return c.status();
    b->queued.push_back(*std::move(c));
  }
  co_return absl::InternalError("could not fill the accept queue");
}

TEST(InterleaveTest, AlternatesFamiliesStartingWithTheFirst) {
  std::vector<SocketAddress> in = {*SocketAddress::Parse("[::1]:1"), *SocketAddress::Parse("[::2]:1"),
                                   *SocketAddress::Parse("[::3]:1"), *SocketAddress::Parse("1.1.1.1:1"),
                                   *SocketAddress::Parse("2.2.2.2:1")};
  std::vector<std::string> out;
  for (const SocketAddress& a : InterleaveFamilies(in)) out.push_back(a.ToString());
  EXPECT_THAT(out, ::testing::ElementsAre("[::1]:1", "1.1.1.1:1", "[::2]:1", "2.2.2.2:1", "[::3]:1"));
}

TEST_F(ConnectTest, RefusedIpv6FallsBackToIpv4AtOnce) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    const uint16_t port = listener.local_address().port();
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, testing::FakeDnsServer::Start());
    dns->AddAAAA("dual.test", "::1");  // nothing listens on [::1]:port
    dns->AddA("dual.test", "127.0.0.1");
    dns::ResolverOptions options;
    options.servers = {dns->address()};
    options.use_hosts_file = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto resolver, dns::Resolver::Create(options));
    const absl::Time start = EventLoop::Current()->Now();
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn, co_await ConnectToHost(*resolver, "dual.test", port));
    EXPECT_EQ(conn.peer().ToString(), absl::StrCat("127.0.0.1:", port));
    EXPECT_LT(EventLoop::Current()->Now() - start, absl::Milliseconds(250));  // no stagger wait
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(ConnectTest, AHangingFirstAddressLosesAfterTheStaggerAndIsClosed) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto hole, co_await MakeBlackhole(SocketAddress::Loopback6(0)));
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener good, TcpListener::Bind(SocketAddress::Loopback4(0)));
    const absl::Time start = EventLoop::Current()->Now();
    // (A braced list inside a co_await does not compile with GCC 12: name the vector.)
    std::vector<SocketAddress> addrs = {hole->listener.local_address(), good.local_address()};
    CORIO_CO_ASSIGN_OR_RETURN(
        TcpStream conn, co_await ConnectToAny(std::move(addrs), std::string("test"), ConnectOptions()));
    EXPECT_EQ(conn.peer(), good.local_address());
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Milliseconds(250));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
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
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kUnavailable,
                                        HasSubstr("connect both.test:80: all 2 addresses failed")));
}

TEST_F(ConnectTest, TheOverallTimeoutBoundsEverything) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto hole, co_await MakeBlackhole(SocketAddress::Loopback4(0)));
    ConnectOptions options;
    options.timeout = absl::Seconds(5);
    std::vector<SocketAddress> addrs = {hole->listener.local_address()};
    absl::StatusOr<TcpStream> conn =
        co_await ConnectToAny(std::move(addrs), std::string("hole.test:1"), options);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                        "connect hole.test:1: timed out after 5s"));
}

TEST_F(ConnectTest, CancellationStopsEveryAttempt) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto hole, co_await MakeBlackhole(SocketAddress::Loopback4(0)));
    const SocketAddress addr = hole->listener.local_address();
    std::vector<SocketAddress> addrs = {addr, addr, addr};
    JoinHandle<absl::StatusOr<TcpStream>> h =
        Spawn(ConnectToAny(std::move(addrs), std::string("hole.test:1"), ConnectOptions()));
    CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));  // all three attempts started
    h.Cancel();
    absl::StatusOr<TcpStream> conn = co_await std::move(h);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
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
