// TcpBlackhole: connects to it hang until they time out or are cancelled, on virtual time,
// for both address families; nothing is leaked.
#include "testing/tcp_blackhole.h"

#include <memory>

#include "gtest/gtest.h"
#include "net/tcp_stream.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

class TcpBlackholeTest : public FdLeakCheck {};

TEST_F(TcpBlackholeTest, ConnectsHangUntilTheyTimeOut) {
  for (SocketAddress at : {SocketAddress::Loopback4(0), SocketAddress::Loopback6(0)}) {
    absl::StatusOr<std::unique_ptr<TcpBlackhole>> hole = TcpBlackhole::Create(at);
    ASSERT_THAT(hole.status(), IsOk());
    auto main = [](SocketAddress addr) -> Task<absl::Status> {
      const absl::Time start = EventLoop::Current()->Now();
      // Many in turn: none gets through, however long (virtual) time runs.
      for (int i = 0; i < 3; ++i) {
        absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(addr, absl::Minutes(10));
        EXPECT_THAT(c, StatusIs(absl::StatusCode::kDeadlineExceeded));
      }
      EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Minutes(30));
      co_return absl::OkStatus();
    };
    EXPECT_THAT(RunTask(main((*hole)->address())), IsOk());
  }
}

}  // namespace
}  // namespace corio::testing
