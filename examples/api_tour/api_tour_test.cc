#include "examples/api_tour/api_tour.h"

#include "gtest/gtest.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::examples {
namespace {

TEST(ApiTourTest, TheReadmeProgramRuns) {
  EXPECT_THAT(testing::RunTask(Main()), testing::IsOk());
}

}  // namespace
}  // namespace corio::examples
