#ifndef CORIO_EXAMPLES_API_TOUR_API_TOUR_H_
#define CORIO_EXAMPLES_API_TOUR_API_TOUR_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tasks/task.h"

namespace corio::examples {
corio::Task<absl::StatusOr<int>> Work(int id);
corio::Task<absl::Status> Main();
}  // namespace corio::examples

#endif  // CORIO_EXAMPLES_API_TOUR_API_TOUR_H_
