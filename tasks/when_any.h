// WhenAny: run tasks concurrently; the first to finish wins, the rest are cancelled and
// waited for (asyncio.wait(FIRST_COMPLETED), done right: no loser is left running).
// AsCompleted: take results in the order the tasks finish (asyncio.as_completed).
//
//   corio::WhenAnyResult<absl::StatusOr<Addr>> first =
//       co_await corio::WhenAny(std::move(connect_attempts));
//   // first.index: which task; first.result: its ResultOfT<T>
//
//   corio::AsCompleted<absl::StatusOr<Page>> pages(std::move(fetches));
//   while (std::optional<corio::WhenAnyResult<absl::StatusOr<Page>>> next = co_await pages.Next())
//   {
//     Show(next->index, next->result);
//   }
//
// Completion contract (WhenAny): resumes once, on the loop's thread, after every task finished;
// the winner is the first to finish, whether it succeeded or failed (an exception it threw is
// rethrown). Cancelling the awaiting task cancels all of them and still waits. At least one
// task is required (checked).
// AsCompleted::Next resumes with the next finished task, or nullopt when all were taken.
// Destroying an AsCompleted cancels the tasks still running (they finish on their own).
// Threading: on a thread running an EventLoop.
#ifndef CORIO_TASKS_WHEN_ANY_H_
#define CORIO_TASKS_WHEN_ANY_H_

#include <cstddef>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "base/check.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/child_group.h"
#include "tasks/gather.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {

template <typename T>
struct WhenAnyResult {
  size_t index;
  ResultOfT<T> result;
};

template <typename T>
Task<WhenAnyResult<T>> WhenAny(std::vector<Task<T>> tasks) {
  CORIO_CHECK_MSG(!tasks.empty(), "corio::WhenAny of no tasks");
  tasks_internal::ChildGroup group;
  std::vector<std::coroutine_handle<tasks_internal::Promise<T>>> children = group.AddAll(tasks);
  tasks_internal::PromiseBase* winner = nullptr;
  for (;;) {
    while (tasks_internal::PromiseBase* done = group.NextCompleted()) {
      if (winner == nullptr) {
        winner = done;
        group.CancelAll();
      }
    }
    if (group.running() == 0) break;
    co_await group.WaitForCompletion();
  }
  const size_t index = group.IndexOf(winner);
  co_return WhenAnyResult<T>{index, tasks_internal::TakeResult(children[index].promise())};
}

template <typename T, typename... More>
Task<WhenAnyResult<T>> WhenAny(Task<T> first, Task<More>... more) {
  static_assert((std::is_same_v<T, More> && ...), "WhenAny: all tasks must have the same type");
  std::vector<Task<T>> tasks;
  tasks.push_back(std::move(first));
  (tasks.push_back(std::move(more)), ...);
  return WhenAny(std::move(tasks));
}

template <typename T>
class AsCompleted {
 public:
  explicit AsCompleted(std::vector<Task<T>> tasks) : children_(group_.AddAll(tasks)) {}
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;

  size_t remaining() const { return children_.size() - taken_; }

  Task<std::optional<WhenAnyResult<T>>> Next() {
    tasks_internal::PromiseBase* done = group_.NextCompleted();
    while (done == nullptr && group_.running() > 0) {
      co_await group_.WaitForCompletion();
      done = group_.NextCompleted();
    }
    if (done == nullptr) co_return std::nullopt;
    ++taken_;
    const size_t index = group_.IndexOf(done);
    co_return WhenAnyResult<T>{index, tasks_internal::TakeSettled(children_[index].promise())};
  }

 private:
  tasks_internal::ChildGroup group_;
  std::vector<std::coroutine_handle<tasks_internal::Promise<T>>> children_;
  size_t taken_ = 0;
};

}  // namespace corio

#endif  // CORIO_TASKS_WHEN_ANY_H_
