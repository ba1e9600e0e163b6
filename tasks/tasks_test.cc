// //tasks (everything in one dependency): the umbrella header compiles alone and its pieces
// work together.
#include "tasks/tasks.h"

#include <vector>

#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOkAndHolds;

Task<absl::StatusOr<int>> Work(int id) {
  absl::Status slept = co_await Sleep(absl::Milliseconds(id));
  if (!slept.ok()) co_return slept;
  co_return id;
}

Task<absl::StatusOr<int>> Main() {
  absl::StatusOr<std::vector<int>> all = co_await Gather(std::vector<Task<absl::StatusOr<int>>>{});
  if (!all.ok()) co_return all.status();
  TaskGroup group;
  for (int i = 0; i < 3; ++i) group.Spawn(Work(i));
  absl::Status waited = co_await group.Wait();
  if (!waited.ok()) co_return waited;
  absl::StatusOr<int> timed = co_await WithTimeout(absl::Seconds(1), Work(5));
  co_return timed;
}

TEST(TasksTest, TheUmbrellaHeaderBringsEverything) {
  EXPECT_THAT(corio::Run(Main()), IsOkAndHolds(5));
}

}  // namespace
}  // namespace corio
