// TcpListener on loopback: binding (port 0, both families, errors naming the address),
// accepting, cancelling an Accept, a listener moved while an Accept waits, and closing it.
#include "net/tcp_listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

class TcpListenerTest : public testing::FdLeakCheck {};

TEST_F(TcpListenerTest, AcceptsOnBothFamiliesAndNamesThePeer) {
  auto main = []() -> Task<absl::Status> {
    for (SocketAddress at : {SocketAddress::Loopback4(0), SocketAddress::Loopback6(0)}) {
      CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(at));
      EXPECT_NE(listener.local_address().port(), 0);
      JoinHandle<absl::StatusOr<TcpStream>> accept = Spawn(listener.Accept());
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(listener.local_address()));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream s, co_await std::move(accept));
      EXPECT_EQ(s.peer().family(), at.family());
      EXPECT_EQ(s.peer(), *SocketAddress::LocalOf(c.fd()));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpListenerTest, BindingATakenPortNamesTheAddress) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener first, TcpListener::Bind(SocketAddress::Loopback4(0)));
    absl::StatusOr<TcpListener> second = TcpListener::Bind(first.local_address());
    EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("listen on " + first.local_address().ToString() +
                                           ": Address already in use")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpListenerTest, AcceptIsCancellableAndTheListenerStillWorks) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback6(0)));
    JoinHandle<absl::StatusOr<TcpStream>> accept = Spawn(listener.Accept());
    (void)co_await Sleep(absl::Seconds(1));
    accept.Cancel();
    absl::StatusOr<TcpStream> a = co_await std::move(accept);
    EXPECT_THAT(a, StatusIs(absl::StatusCode::kCancelled));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(listener.local_address()));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream s, co_await listener.Accept());
    EXPECT_TRUE(c.peer().is_v6());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpListenerTest, MovingAListenerWhileAnAcceptWaitsIsHarmless) {
  auto main = []() -> Task<absl::Status> {
    std::vector<TcpListener> listeners;
    listeners.reserve(1);
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener l, TcpListener::Bind(SocketAddress::Loopback4(0)));
    listeners.push_back(std::move(l));
    const SocketAddress addr = listeners[0].local_address();
    JoinHandle<absl::StatusOr<TcpStream>> accept = Spawn(listeners[0].Accept());
    (void)co_await Yield();
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener other, TcpListener::Bind(SocketAddress::Loopback4(0)));
    listeners.push_back(std::move(other));  // reallocates: listeners[0] moves
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(addr));
    absl::StatusOr<TcpStream> s = co_await std::move(accept);
    co_return s.status();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpListenerTest, ClosingWhileAnAcceptWaitsCancelsIt) {
  auto main = []() -> Task<absl::Status> {
    auto listener = std::make_unique<TcpListener>();
    CORIO_CO_ASSIGN_OR_RETURN(*listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    JoinHandle<absl::StatusOr<TcpStream>> accept = Spawn(listener->Accept());
    (void)co_await Yield();
    listener.reset();
    absl::StatusOr<TcpStream> a = co_await std::move(accept);
    EXPECT_THAT(a, StatusIs(absl::StatusCode::kCancelled));
    TcpListener closed;
    absl::StatusOr<TcpStream> b = co_await closed.Accept();
    EXPECT_THAT(b, StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio
