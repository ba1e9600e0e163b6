#include "cmd/fetch_cmd/progress.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::fetch_cmd {
namespace {

using ::testing::HasSubstr;

TEST(ProgressTest, KnownTotal) {
  ProgressSnapshot s{.done = 500, .failed = 3, .bytes = 1 << 20, .total = 1000,
                     .elapsed = absl::Seconds(5)};
  const std::string line = ProgressLine(s, 100);
  EXPECT_THAT(line, HasSubstr("500/1000"));
  EXPECT_THAT(line, HasSubstr("50%"));
  EXPECT_THAT(line, HasSubstr("100/s"));
  EXPECT_THAT(line, HasSubstr("3 failed"));
  EXPECT_THAT(line, HasSubstr("1.0 MiB"));
  EXPECT_THAT(line, HasSubstr("ETA 5s"));
  EXPECT_LE(line.size(), 100u);
}

TEST(ProgressTest, UnknownTotalAndNarrowTerminal) {
  ProgressSnapshot s{.done = 7, .elapsed = absl::Seconds(1)};
  EXPECT_THAT(ProgressLine(s, 80), HasSubstr("7/?"));
  EXPECT_LE(ProgressLine(s, 12).size(), 12u);
}

TEST(ProgressTest, OnlyOnTerminalsAndLongLists) {
  EXPECT_FALSE(ShouldShowProgress(false, std::nullopt));
  EXPECT_FALSE(ShouldShowProgress(true, 3));
  EXPECT_TRUE(ShouldShowProgress(true, 1000));
  EXPECT_TRUE(ShouldShowProgress(true, std::nullopt));
}

}  // namespace
}  // namespace corio::fetch_cmd
