#include "net/fetch/proto_time.h"

#include "gtest/gtest.h"

namespace corio::fetch {
namespace {

TEST(ProtoTimeTest, RoundTrips) {
  for (absl::Duration d : {absl::ZeroDuration(), absl::Seconds(5), absl::Milliseconds(1500),
                           absl::Nanoseconds(1), absl::Milliseconds(-1500), absl::Hours(-3)}) {
    SCOPED_TRACE(absl::FormatDuration(d));
    const google::protobuf::Duration p = ToProtoDuration(d);
    EXPECT_TRUE(p.seconds() == 0 || p.nanos() == 0 || (p.seconds() < 0) == (p.nanos() < 0));
    EXPECT_LT(std::abs(p.nanos()), 1000000000);
    EXPECT_EQ(FromProtoDuration(p), d);
  }
  const google::protobuf::Duration p = ToProtoDuration(absl::Milliseconds(1500));
  EXPECT_EQ(p.seconds(), 1);
  EXPECT_EQ(p.nanos(), 500000000);
}

TEST(ProtoTimeTest, Saturates) {
  EXPECT_EQ(ToProtoDuration(absl::InfiniteDuration()).seconds(), 315576000000);
  EXPECT_EQ(ToProtoDuration(-absl::InfiniteDuration()).seconds(), -315576000000);
}

}  // namespace
}  // namespace corio::fetch
