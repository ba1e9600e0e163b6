// The README's "API at a glance", as a real program (api_tour_test runs it).
#include "examples/api_tour/api_tour.h"

#include "base/status_macros.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/task_group.h"
#include "tasks/with_timeout.h"

namespace corio::examples {

corio::Task<absl::StatusOr<int>> Work(int id) {
  CORIO_CO_RETURN_IF_ERROR(co_await corio::Sleep(absl::Milliseconds(10 * id)));
  co_return id;
}

corio::Task<absl::Status> Main() {
  // Concurrent, in order; the first failure cancels the rest, and Gather waits for them.
  CORIO_CO_ASSIGN_OR_RETURN(auto both, co_await corio::Gather(Work(1), Work(2)));
  if (std::get<0>(both) != 1 || std::get<1>(both) != 2) co_return absl::InternalError("gather");
  // A bound on time: the task is cancelled, waited for, and the result is DEADLINE_EXCEEDED.
  absl::StatusOr<int> late = co_await corio::WithTimeout(absl::Seconds(1), Work(500));
  if (!absl::IsDeadlineExceeded(late.status())) co_return absl::InternalError("timeout");
  // Structured concurrency.
  corio::TaskGroup group;
  for (int i = 0; i < 10; ++i) group.Spawn(Work(i));
  CORIO_CO_RETURN_IF_ERROR(co_await group.Wait());
  co_return absl::OkStatus();
}

}  // namespace corio::examples
