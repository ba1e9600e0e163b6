// TcpStream and TcpListener over loopback, on one loop: data both ways, backpressure, EOF,
// resets, refused connections, timeouts and cancellation — and no fd left open afterwards.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "tasks/gather.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;


class TcpTest : public testing::FdLeakCheck {};

Task<absl::Status> Echo(TcpStream conn) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return co_await conn.Shutdown();
    }
    CORIO_CO_RETURN_IF_ERROR(co_await conn.WriteAll(absl::string_view(buf.data(), *n)));
  }
}

Task<absl::Status> ServeOne(TcpListener* listener) {
  CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn, co_await listener->Accept());
  co_return co_await Echo(std::move(conn));
}

TEST_F(TcpTest, EchoesAMegabyteBothWaysWithBackpressure) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    JoinHandle<absl::Status> server = Spawn(ServeOne(&listener));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn,
                              co_await TcpStream::Connect(listener.local_address()));
    EXPECT_EQ(conn.peer(), listener.local_address());
    std::string sent(1 << 20, 'x');
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
    // Write and read at once: the echo fills both directions' buffers.
    auto writer = [](TcpStream* c, const std::string* data) -> Task<absl::Status> {
      CORIO_CO_RETURN_IF_ERROR(co_await c->WriteAll(*data));
      co_return co_await c->Shutdown();
    };
    auto reader = [](TcpStream* c) -> Task<absl::StatusOr<std::string>> {
      std::string got;
      std::vector<char> buf(16 * 1024);
      for (;;) {
        absl::StatusOr<size_t> n = co_await c->Read(absl::MakeSpan(buf));
        if (!n.ok()) co_return n.status();
        if (*n == 0) co_return got;
        got.append(buf.data(), *n);
      }
    };
    CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(writer(&conn, &sent), reader(&conn)));
    EXPECT_TRUE(std::get<1>(results) == sent);
    co_return co_await std::move(server);
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpTest, ConnectionRefusedNamesTheAddress) {
  // A bound socket that does not listen: connecting to it is refused at once.
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  SocketAddress addr = SocketAddress::Loopback4(0);
  ASSERT_EQ(bind(s, addr.sockaddr_ptr(), addr.socklen()), 0);
  addr = *SocketAddress::LocalOf(s);
  auto main = [](SocketAddress addr) -> Task<absl::Status> {
    absl::StatusOr<TcpStream> conn = co_await TcpStream::Connect(addr);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main(addr)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("connect " + addr.ToString() + ": Connection refused")));
  close(s);
}

TEST_F(TcpTest, PeerCloseIsEofAndReadExactlySaysHowFarItGot) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    JoinHandle<absl::Status> server = Spawn([](TcpListener* l) -> Task<absl::Status> {
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn, co_await l->Accept());
      co_return co_await conn.WriteAll("abc");  // then closes (destructor)
    }(&listener));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn,
                              co_await TcpStream::Connect(listener.local_address()));
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(server));
    char buf[8];
    absl::Status exact = co_await conn.ReadExactly(absl::MakeSpan(buf, 8));
    EXPECT_THAT(exact, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 3 of 8 bytes")));
    absl::StatusOr<size_t> eof = co_await conn.Read(absl::MakeSpan(buf));
    EXPECT_THAT(eof, IsOkAndHolds(0u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpTest, ResetByPeerIsAnErrorNamingThePeer) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn,
                              co_await TcpStream::Connect(listener.local_address()));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream server_side, co_await listener.Accept());
    const linger abort_on_close{1, 0};  // close() sends RST
    setsockopt(server_side.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    server_side.Close();
    char buf[8];
    absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
    co_return n.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read from 127.0.0.1:")));
}

TEST_F(TcpTest, SlowPeerReadTimesOutOnVirtualTime) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn,
                              co_await TcpStream::Connect(listener.local_address()));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream silent, co_await listener.Accept());
    std::vector<char> buf(16);
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<size_t> n =
        co_await WithTimeout(absl::Seconds(30), conn.Read(absl::MakeSpan(buf)));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(30));
    // The stream is still usable after the timed-out read.
    CORIO_CO_RETURN_IF_ERROR(co_await silent.WriteAll("late"));
    absl::StatusOr<size_t> later = co_await conn.Read(absl::MakeSpan(buf));
    EXPECT_THAT(later, IsOkAndHolds(4u));
    co_return n.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(TcpTest, HangingConnectTimesOutAndIsCancelledWithoutLeaks) {
  auto main = []() -> Task<absl::Status> {
    // A listener that never accepts, with the smallest backlog: once its queue is full the
    // kernel drops further SYNs, and a connect hangs.
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener,
                              TcpListener::Bind(SocketAddress::Loopback4(0), /*backlog=*/0));
    std::vector<TcpStream> queued;
    for (int i = 0; i < 16; ++i) {
      absl::StatusOr<TcpStream> c =
          co_await TcpStream::Connect(listener.local_address(), absl::Seconds(3));
      if (absl::IsDeadlineExceeded(c.status())) {
        EXPECT_THAT(c.status().message(), HasSubstr("timed out after 3s"));
        // And a hanging connect can be cancelled.
        JoinHandle<absl::StatusOr<TcpStream>> pending =
            Spawn(TcpStream::Connect(listener.local_address()));
        (void)co_await Sleep(absl::Seconds(1));
        pending.Cancel();
        absl::StatusOr<TcpStream> cancelled = co_await std::move(pending);
        co_return cancelled.status();
      }
      if (!c.ok()) co_return c.status();
      queued.push_back(*std::move(c));
    }
    co_return absl::InternalError("the accept queue never filled");
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(TcpTest, AcceptAndReadAreCancellable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback6(0)));
    JoinHandle<absl::StatusOr<TcpStream>> accept = Spawn(listener.Accept());
    (void)co_await Sleep(absl::Seconds(1));
    accept.Cancel();
    absl::StatusOr<TcpStream> a = co_await std::move(accept);
    EXPECT_THAT(a, StatusIs(absl::StatusCode::kCancelled));
    // The listener still works after a cancelled Accept.
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(listener.local_address()));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream s, co_await listener.Accept());
    EXPECT_TRUE(c.peer().is_v6());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio
