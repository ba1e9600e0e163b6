#include "testing/tcp_server.h"

#include <string>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_stream.h"
#include "tasks/with_timeout.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

using Behavior = FakeTcpServer::Behavior;
using ::corio::testing::IsOk;
using ::testing::HasSubstr;

Task<absl::StatusOr<std::string>> ReadAll(TcpStream* conn) {
  std::string out;
  char buf[256];
  for (;;) {
    absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return out;
    out.append(buf, *n);
  }
}

TEST(FakeTcpServerTest, EachBehaviourAsDocumented) {
  auto main = []() -> Task<absl::Status> {
    {
      CORIO_CO_ASSIGN_OR_RETURN(auto echo, FakeTcpServer::Start(Behavior::kEcho));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(echo->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.WriteAll("ping"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Shutdown());
      absl::StatusOr<std::string> got = co_await ReadAll(&c);
      EXPECT_THAT(got, IsOkAndHolds("ping"));
      EXPECT_EQ(echo->connections(), 1);
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(auto closing, FakeTcpServer::Start(Behavior::kCloseAtOnce));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(closing->address()));
      absl::StatusOr<std::string> got = co_await ReadAll(&c);
      EXPECT_THAT(got, IsOkAndHolds(""));
    }
    {
      // The reset may even beat the client's check of its connect: either way, UNAVAILABLE.
      CORIO_CO_ASSIGN_OR_RETURN(auto reset, FakeTcpServer::Start(Behavior::kReset));
      absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(reset->address());
      absl::Status got = c.status();
      if (c.ok()) {
        absl::StatusOr<std::string> read = co_await ReadAll(&*c);
        got = read.status();
      }
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reset")));
    }
    {
      FakeTcpServer::Options slow;
      slow.behavior = Behavior::kSlow;
      slow.greeting = "abc";
      slow.delay = absl::Seconds(1);
      CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeTcpServer::Start(slow));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(server->address()));
      const absl::Time start = EventLoop::Current()->Now();
      absl::StatusOr<std::string> got = co_await ReadAll(&c);
      EXPECT_THAT(got, IsOkAndHolds("abc"));
      EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(auto stall, FakeTcpServer::Start(Behavior::kStall));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(stall->address()));
      absl::StatusOr<std::string> got = co_await WithTimeout(absl::Seconds(5), ReadAll(&c));
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kDeadlineExceeded));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::testing
