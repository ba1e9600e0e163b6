#include "loop/clock.h"

#include "gtest/gtest.h"

namespace corio {
namespace {

TEST(ClockTest, SystemClockIsMonotonicRealAndShared) {
  Clock& c = SystemClock();
  EXPECT_EQ(&c, &SystemClock());
  EXPECT_FALSE(c.is_virtual());
  EXPECT_FALSE(c.AdvanceWhenIdle(c.Now() + absl::Hours(1)));  // real time does not jump
  absl::Time last = c.Now();
  for (int i = 0; i < 1000; ++i) {
    const absl::Time now = c.Now();
    EXPECT_GE(now, last);
    last = now;
  }
}

TEST(ClockTest, NanosConvertBothWays) {
  const int64_t ns = loop_internal::MonotonicNanos();
  EXPECT_EQ(loop_internal::TimeToNanos(loop_internal::NanosToTime(ns)), ns);
}

}  // namespace
}  // namespace corio
