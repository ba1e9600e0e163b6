#include "testing/virtual_clock.h"

#include "gtest/gtest.h"

namespace corio::testing {
namespace {

TEST(VirtualClockTest, MovesOnlyForward) {
  VirtualClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.Advance(absl::Seconds(-5));
  clock.AdvanceTo(absl::FromUnixSeconds(50));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.AdvanceTo(absl::FromUnixSeconds(200));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(200));
}

TEST(VirtualClockTest, AutoAdvanceJumpsToTheDeadlineUnlessTurnedOff) {
  VirtualClock clock(absl::FromUnixSeconds(0));
  EXPECT_TRUE(clock.is_virtual());
  EXPECT_TRUE(clock.AdvanceWhenIdle(absl::FromUnixSeconds(7)));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
  clock.SetAutoAdvance(false);
  EXPECT_FALSE(clock.AdvanceWhenIdle(absl::FromUnixSeconds(9)));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

}  // namespace
}  // namespace corio::testing
