// Test-only: what corio's task tests use to set scenarios up around the target under test
// (spawning, sleeping, running a task to completion on a virtual clock, status macros).
#ifndef CORIO_TASKS_TASKS_TEST_UTIL_H_
#define CORIO_TASKS_TASKS_TEST_UTIL_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/task.h"
#include "testing/run_task.h"

namespace corio::testing {

// Blocks threads (a thread pool's, a test's) in Wait() until Open(). A mutex and condition
// variable: ThreadSanitizer sees through them, unlike std::future's futex waits.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A child task for combinator tests: sleeps `ms`, then returns `value` (or fails with `error`
// if it is not OK), and logs "<name> done" or "<name> cancelled" on its way out, so a test can
// check that every task a combinator started had finished by the time it returned.
inline Task<absl::StatusOr<int>> Job(std::vector<std::string>* log, std::string name, int ms,
                                     int value, absl::Status error = absl::OkStatus()) {
  absl::Status slept = co_await Sleep(absl::Milliseconds(ms));
  if (!slept.ok()) {
    log->push_back(name + " cancelled");
    co_return slept;
  }
  log->push_back(name + " done");
  if (!error.ok()) co_return error;
  co_return value;
}

}  // namespace corio::testing

#endif  // CORIO_TASKS_TASKS_TEST_UTIL_H_
