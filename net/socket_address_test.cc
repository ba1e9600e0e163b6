#include "net/socket_address.h"

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SocketAddressTest, ParsesAndFormatsBothFamilies) {
  absl::StatusOr<SocketAddress> v4 = SocketAddress::Parse("127.0.0.1:8080");
  ASSERT_THAT(v4, IsOk());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->port(), 8080);
  EXPECT_EQ(v4->ToString(), "127.0.0.1:8080");
  absl::StatusOr<SocketAddress> v6 = SocketAddress::Parse("[0:0::1]:443");
  ASSERT_THAT(v6, IsOk());
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->IpString(), "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:443");
  EXPECT_EQ(*v6, SocketAddress::Loopback6(443));
  EXPECT_NE(*v4, SocketAddress::Loopback4(8081));
  SocketAddress copy = *v4;
  copy.set_port(9);
  EXPECT_EQ(copy.ToString(), "127.0.0.1:9");
  absl::StatusOr<SocketAddress> back = SocketAddress::FromSockaddr(v6->sockaddr_ptr(), v6->socklen());
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, *v6);
}

TEST(SocketAddressTest, LocalOfTellsThePortTheKernelPicked) {
  const int s = socket(AF_INET6, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  const SocketAddress any_port = SocketAddress::Loopback6(0);
  ASSERT_EQ(bind(s, any_port.sockaddr_ptr(), any_port.socklen()), 0);
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(s);
  ASSERT_THAT(local, IsOk());
  EXPECT_TRUE(local->is_v6());
  EXPECT_EQ(local->IpString(), "::1");
  EXPECT_NE(local->port(), 0);
  close(s);
  EXPECT_THAT(SocketAddress::LocalOf(s),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("getsockname fd")));
}

TEST(SocketAddressTest, RejectsWhatIsNotAnAddressWithPort) {
  const auto bad = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(SocketAddress::Parse("127.0.0.1"), StatusIs(bad, HasSubstr("missing :port")));
  EXPECT_THAT(SocketAddress::Parse("::1:80"), StatusIs(bad, HasSubstr("need brackets")));
  EXPECT_THAT(SocketAddress::Parse("[::1"), StatusIs(bad, HasSubstr("unterminated")));
  EXPECT_THAT(SocketAddress::Parse("[::1]80"), StatusIs(bad));
  EXPECT_THAT(SocketAddress::Parse("1.2.3.4:65536"), StatusIs(bad, HasSubstr("invalid port")));
  EXPECT_THAT(SocketAddress::Parse("1.2.3.4:+80"), StatusIs(bad, HasSubstr("invalid port")));
  EXPECT_THAT(SocketAddress::Parse("example.com:80"), StatusIs(bad, HasSubstr("numeric")));
  EXPECT_THAT(SocketAddress::FromIp("1.2.3", 80), StatusIs(bad));
}

}  // namespace
}  // namespace corio
