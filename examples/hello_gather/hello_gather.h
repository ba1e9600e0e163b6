// The asyncio hello-world, in corio: three tasks each wait one second and print, concurrently,
// so the whole thing takes about one second, not three.
#ifndef CORIO_EXAMPLES_HELLO_GATHER_HELLO_GATHER_H_
#define CORIO_EXAMPLES_HELLO_GATHER_HELLO_GATHER_H_

#include <cstdio>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tasks/task.h"

namespace corio::examples {

// Runs the three greetings concurrently, printing to `out`; returns how long it took.
Task<absl::StatusOr<absl::Duration>> HelloGather(std::FILE* out);

}  // namespace corio::examples

#endif  // CORIO_EXAMPLES_HELLO_GATHER_HELLO_GATHER_H_
