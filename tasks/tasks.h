// corio's task layer in one include: Task, Run, Spawn/JoinHandle, Sleep/Yield, Gather,
// WhenAny/AsCompleted, WithTimeout/WithDeadline, Shield, TaskGroup, Event, Mutex, Semaphore,
// Condition, Queue, ToThread; across loops SpawnOn, SharedSemaphore, SharedQueue. Prefer the
// individual targets (//tasks:gather, ...) in libraries.
#ifndef CORIO_TASKS_TASKS_H_
#define CORIO_TASKS_TASKS_H_

#include "base/config.h"  // first: a clear error below C++20
#include "tasks/condition.h"
#include "tasks/event.h"
#include "tasks/gather.h"
#include "tasks/mutex.h"
#include "tasks/queue.h"
#include "tasks/run.h"
#include "tasks/semaphore.h"
#include "tasks/shared_queue.h"
#include "tasks/shared_semaphore.h"
#include "tasks/shield.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/spawn_on.h"
#include "tasks/task.h"
#include "tasks/task_group.h"
#include "tasks/to_thread.h"
#include "tasks/when_any.h"
#include "tasks/with_timeout.h"

#endif  // CORIO_TASKS_TASKS_H_
