#include "examples/hello_gather/hello_gather.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::examples {
namespace {

TEST(HelloGatherTest, ThreeOneSecondWaitsTakeOneSecondInAll) {
  char buf[256] = {};
  std::FILE* out = fmemopen(buf, sizeof buf, "w");
  ASSERT_NE(out, nullptr);
  absl::StatusOr<absl::Duration> took = testing::RunTask(HelloGather(out));
  std::fclose(out);
  ASSERT_THAT(took, testing::IsOk());
  EXPECT_EQ(*took, absl::Seconds(1));  // virtual time: concurrent, not 3 s
  EXPECT_EQ(std::string(buf), "hello\nconcurrent\nworld\n");
}

}  // namespace
}  // namespace corio::examples
