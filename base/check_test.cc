#include "base/check.h"

#include "gtest/gtest.h"

namespace corio {
namespace {

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluated = 0;
  CORIO_CHECK(++evaluated == 1);
  CORIO_CHECK_MSG(evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(CheckDeathTest, AFailedCheckNamesTheConditionAndAborts) {
  EXPECT_DEATH(CORIO_CHECK(1 + 1 == 3), "CHECK failed: 1 \\+ 1 == 3");
  EXPECT_DEATH(CORIO_CHECK_MSG(2 + 2 == 5, "arithmetic"), "CHECK failed: 2 \\+ 2 == 5: arithmetic");
}

}  // namespace
}  // namespace corio
