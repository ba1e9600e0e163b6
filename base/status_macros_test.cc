#include "base/status_macros.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace corio {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  CORIO_ASSIGN_OR_RETURN(int half, Half(n));
  CORIO_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int n) {
  CORIO_RETURN_IF_ERROR(Half(n));
  CORIO_RETURN_IF_ERROR(absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(7).status().message(), "odd");
}

TEST(StatusMacrosTest, ReturnIfErrorAcceptsStatusAndStatusOr) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusMacrosTest, EvaluatesTheExpressionOnce) {
  int calls = 0;
  auto f = [&]() -> absl::Status {
    ++calls;
    return absl::OkStatus();
  };
  auto g = [&]() -> absl::Status {
    CORIO_RETURN_IF_ERROR(f());
    return absl::OkStatus();
  };
  EXPECT_TRUE(g().ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace corio
