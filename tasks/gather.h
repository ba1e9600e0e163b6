// Gather: run tasks concurrently and collect their results in order (asyncio.gather), as
// structured concurrency: the first failure cancels the others, and Gather returns only once
// every task has finished.
//
//   absl::StatusOr<std::tuple<Page, Image>> both = co_await corio::Gather(GetPage(), GetImage());
//   absl::StatusOr<std::vector<Page>> pages = co_await corio::Gather(std::move(page_tasks));
//   // every result, failures included (asyncio's return_exceptions=True):
//   std::vector<absl::StatusOr<Page>> all = co_await corio::GatherSettled(std::move(page_tasks));
//
// Values: a Task<StatusOr<U>> contributes U, Task<Status> and Task<void> std::monostate, any
// other Task<U> a U. A task fails when it returns a non-OK Status or throws.
// Completion contract: the tasks start on the next loop turn (as Spawn does); Gather resumes
// once, on the loop's thread, after all of them finished: with the values, or with the first
// failure's Status (the others were cancelled as soon as it happened), or by rethrowing the
// first exception. Cancelling the task awaiting Gather cancels every task and still waits for
// them; the result is then CancelledError. GatherSettled never cancels: it waits for all and
// returns each ResultOfT<T> (an escaped exception becomes UNKNOWN "task threw ...").
// Threading: on a thread running an EventLoop.
#ifndef CORIO_TASKS_GATHER_H_
#define CORIO_TASKS_GATHER_H_

#include <exception>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/config.h"  // first: a clear error below C++20
#include "tasks/child_group.h"
#include "tasks/spawn.h"
#include "tasks/task.h"

namespace corio {
namespace tasks_internal {

template <typename T>
struct ValueOf {
  using type = T;
};
template <>
struct ValueOf<void> {
  using type = std::monostate;
};
template <>
struct ValueOf<absl::Status> {
  using type = std::monostate;
};
template <typename U>
struct ValueOf<absl::StatusOr<U>> {
  using type = U;
};

template <typename T>
typename ValueOf<T>::type TakeValueOf(Promise<T>& p) {
  if constexpr (std::is_void_v<T> || std::is_same_v<T, absl::Status>) {
    return std::monostate{};
  } else if constexpr (IsStatusOr<T>::value) {
    return *std::move(p.value);
  } else {
    return std::move(p.value);
  }
}

// A finished child's ResultOfT<T>, with an escaped exception turned into a Status.
template <typename T>
ResultOfT<T> TakeSettled(Promise<T>& p) {
  if (p.exception) return ExceptionToStatus(p.exception);
  return TakeResult(p);
}

// Waits for every child; on the first failure cancels the rest. Returns the first failure's
// Status (OK if none) and the first exception, if any, in *exception.
Task<absl::Status> WaitAllFailFast(ChildGroup& group, std::exception_ptr* exception);
// Waits for every child, whatever happens.
Task<void> WaitAll(ChildGroup& group);

}  // namespace tasks_internal

template <typename T>
using ValueOfT = typename tasks_internal::ValueOf<T>::type;

template <typename... T>
Task<absl::StatusOr<std::tuple<ValueOfT<T>...>>> Gather(Task<T>... tasks) {
  tasks_internal::ChildGroup group;
  std::tuple<std::coroutine_handle<tasks_internal::Promise<T>>...> children{
      group.Add(std::move(tasks))...};
  std::exception_ptr exception;
  absl::Status failure = co_await tasks_internal::WaitAllFailFast(group, &exception);
  if (exception) std::rethrow_exception(exception);
  if (!failure.ok()) co_return failure;
  co_return std::apply(
      [](auto... h) {
        return std::tuple<ValueOfT<T>...>(tasks_internal::TakeValueOf(h.promise())...);
      },
      children);
}

template <typename T>
Task<absl::StatusOr<std::vector<ValueOfT<T>>>> Gather(std::vector<Task<T>> tasks) {
  tasks_internal::ChildGroup group;
  std::vector<std::coroutine_handle<tasks_internal::Promise<T>>> children = group.AddAll(tasks);
  std::exception_ptr exception;
  absl::Status failure = co_await tasks_internal::WaitAllFailFast(group, &exception);
  if (exception) std::rethrow_exception(exception);
  if (!failure.ok()) co_return failure;
  std::vector<ValueOfT<T>> values;
  values.reserve(children.size());
  for (auto h : children) values.push_back(tasks_internal::TakeValueOf(h.promise()));
  co_return values;
}

template <typename... T>
Task<std::tuple<ResultOfT<T>...>> GatherSettled(Task<T>... tasks) {
  tasks_internal::ChildGroup group;
  std::tuple<std::coroutine_handle<tasks_internal::Promise<T>>...> children{
      group.Add(std::move(tasks))...};
  co_await tasks_internal::WaitAll(group);
  co_return std::apply(
      [](auto... h) {
        return std::tuple<ResultOfT<T>...>(tasks_internal::TakeSettled(h.promise())...);
      },
      children);
}

template <typename T>
Task<std::vector<ResultOfT<T>>> GatherSettled(std::vector<Task<T>> tasks) {
  tasks_internal::ChildGroup group;
  std::vector<std::coroutine_handle<tasks_internal::Promise<T>>> children = group.AddAll(tasks);
  co_await tasks_internal::WaitAll(group);
  std::vector<ResultOfT<T>> results;
  results.reserve(children.size());
  for (auto h : children) results.push_back(tasks_internal::TakeSettled(h.promise()));
  co_return results;
}

}  // namespace corio

#endif  // CORIO_TASKS_GATHER_H_
