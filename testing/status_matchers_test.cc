#include "testing/status_matchers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusMatchersTest, MatchCodesMessagesAndValues) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::NotFoundError("x"), Not(IsOk()));
  EXPECT_THAT(absl::NotFoundError("no such host \"x\""), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(absl::NotFoundError("no such host \"x\""),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"x\"")));
  EXPECT_THAT(absl::NotFoundError("x"), Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(absl::StatusOr<int>(3), IsOkAndHolds(3));
  EXPECT_THAT(absl::StatusOr<int>(3), Not(IsOkAndHolds(4)));
  EXPECT_THAT(absl::StatusOr<int>(absl::CancelledError()), Not(IsOkAndHolds(3)));
  EXPECT_THAT(absl::StatusOr<int>(absl::CancelledError()),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST(StatusMatchersTest, AssertOkAndAssign) {
  CORIO_ASSERT_OK_AND_ASSIGN(int v, absl::StatusOr<int>(5));
  EXPECT_EQ(v, 5);
}

}  // namespace
}  // namespace corio::testing
