// TaskGroup: structured concurrency (asyncio.TaskGroup). Children run concurrently; the first
// failure cancels the others; Wait() returns only when every child has finished.
//
//   corio::TaskGroup group;
//   for (const std::string& url : urls) group.Spawn(FetchAndStore(url));
//   CORIO_CO_RETURN_IF_ERROR(co_await group.Wait());   // the first failure, or OK
//
// A child fails when it returns a non-OK Status (Task<Status>, Task<StatusOr<U>>) or throws;
// values are discarded (write results where the child can reach them). Children may spawn
// more children into the group while it waits.
// Completion contract: children start on the next loop turn. Wait() resumes once, on the
// loop's thread, when no child is running: with OK, or the first failure's Status (the rest
// were cancelled when it happened; children spawned after it are cancelled at once), or by
// rethrowing the first exception. Cancelling the task in Wait() (also before it got there)
// cancels every child and still waits; it then returns CANCELLED unless a child failed first,
// whatever the children returned.
// Ownership: a child's frame is freed as soon as it finishes (a server's group does not grow).
// Always co_await Wait() before the group goes away; a group destroyed with children running
// cancels them and lets them finish on their own.
// Threading: on a thread running an EventLoop.
#ifndef CORIO_TASKS_TASK_GROUP_H_
#define CORIO_TASKS_TASK_GROUP_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/child_group.h"
#include "tasks/task.h"

namespace corio {

class TaskGroup {
 public:
  TaskGroup() { group_.CollectEagerly(&TaskGroup::OnChildDone, this); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  template <typename T>
  void Spawn(Task<T> task) {
    auto h = group_.Add(std::move(task));
    if (!failure_.ok() || exception_ || cancelled_) tasks_internal::RequestCancel(&h.promise());
  }

  // Cancels every running child (Wait() then returns CANCELLED unless a child failed first).
  void Cancel();
  Task<absl::Status> Wait();
  size_t running() const { return group_.running(); }

 private:
  static void OnChildDone(void* self, tasks_internal::PromiseBase* child);

  tasks_internal::ChildGroup group_;
  absl::Status failure_;
  std::exception_ptr exception_;
  bool cancelled_ = false;
};

}  // namespace corio

#endif  // CORIO_TASKS_TASK_GROUP_H_
