// A downstream user's test of corio's task layer: Gather over Run, nothing else of corio.
#include <tuple>

#include "gtest/gtest.h"
#include "tasks/gather.h"
#include "tasks/run.h"

corio::Task<int> Square(int x) { co_return x * x; }

corio::Task<absl::StatusOr<int>> SumOfSquares() {
  absl::StatusOr<std::tuple<int, int>> squares = co_await corio::Gather(Square(3), Square(4));
  if (!squares.ok()) co_return squares.status();
  co_return std::get<0>(*squares) + std::get<1>(*squares);
}

TEST(ConsumerTest, GatherRunsOnCoriosLoop) {
  absl::StatusOr<int> sum = corio::Run(SumOfSquares());
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 25);
}
