// Test-only: what corio's task tests use to set scenarios up around the target under test
// (spawning, sleeping, running a task to completion on a virtual clock, status macros).
#ifndef CORIO_TASKS_TASKS_TEST_UTIL_H_
#define CORIO_TASKS_TASKS_TEST_UTIL_H_

#include "base/status_macros.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/task.h"
#include "testing/run_task.h"

#endif  // CORIO_TASKS_TASKS_TEST_UTIL_H_
