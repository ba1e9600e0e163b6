// RunTask: run a corio Task to completion inside a gtest, on a fresh event loop whose clock is
// virtual (auto-advancing), so Sleep(1h) and timeouts cost nothing and always happen in the
// same order.
//
//   TEST(MyTest, TimesOut) {
//     EXPECT_THAT(corio::testing::RunTask(WithTimeout(absl::Seconds(5), Slow())),
//                 StatusIs(absl::StatusCode::kDeadlineExceeded));
//   }
//
// RunTaskRealTime does the same on the system clock (for tests whose work comes from outside
// the loop, e.g. another thread). Both return what corio::Run returns.
#ifndef CORIO_TESTING_RUN_TASK_H_
#define CORIO_TESTING_RUN_TASK_H_

#include <memory>
#include <utility>

#include "base/check.h"
#include "loop/event_loop.h"
#include "tasks/run.h"
#include "tasks/task.h"
#include "testing/virtual_clock.h"

namespace corio::testing {

template <typename T>
ResultOfT<T> RunTask(Task<T> task) {
  VirtualClock clock;
  EventLoop::Options options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(std::move(options));
  CORIO_CHECK_MSG(loop.ok(), "RunTask: cannot create an event loop");
  return Run(**loop, std::move(task));
}

template <typename T>
ResultOfT<T> RunTaskRealTime(Task<T> task) {
  return Run(std::move(task));
}

}  // namespace corio::testing

#endif  // CORIO_TESTING_RUN_TASK_H_
