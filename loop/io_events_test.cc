#include "loop/io_events.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace corio {
namespace {

TEST(IoEventsTest, BitsAreDistinctFlags) {
  const uint32_t bits[] = {io::kReadable, io::kWritable, io::kError, io::kHangup,
                           io::kEdgeTriggered, io::kPriority};
  uint32_t seen = 0;
  for (uint32_t b : bits) {
    EXPECT_NE(b, 0u);
    EXPECT_EQ(b & (b - 1), 0u) << "one bit each";
    EXPECT_EQ(seen & b, 0u) << "no two alike";
    seen |= b;
  }
}

}  // namespace
}  // namespace corio
