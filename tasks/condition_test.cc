// Condition: notify with a predicate; a cancelled wait re-acquires the mutex first.
#include "tasks/condition.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/mutex.h"
#include "tasks/tasks_test_util.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

TEST(ConditionTest, ProducerConsumerWithPredicate) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    Condition cv(mu);
    std::vector<int> items;
    std::vector<int> consumed;
    auto consumer = [](Mutex* mu, Condition* cv, std::vector<int>* items,
                       std::vector<int>* consumed) -> Task<absl::Status> {
      for (int n = 0; n < 3; ++n) {
        CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
        CORIO_CO_RETURN_IF_ERROR(co_await cv->WaitFor([&] { return !items->empty(); }));
        EXPECT_TRUE(mu->is_locked());
        consumed->push_back(items->front());
        items->erase(items->begin());
      }
      co_return absl::OkStatus();
    };
    JoinHandle<absl::Status> c = Spawn(consumer(&mu, &cv, &items, &consumed));
    for (int i = 1; i <= 3; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(1)));
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu.Lock());
      items.push_back(i);
      cv.NotifyOne();
    }
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(c));
    EXPECT_THAT(consumed, ElementsAre(1, 2, 3));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ConditionTest, CancelledWaitReacquiresTheMutexBeforeReturning) {
  auto main = []() -> Task<absl::Status> {
    Mutex mu;
    Condition cv(mu);
    bool held_after = false;
    auto waiter = [](Mutex* mu, Condition* cv, bool* held_after) -> Task<absl::Status> {
      CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu->Lock());
      absl::Status s = co_await cv->Wait();
      *held_after = mu->is_locked() && lock.owns_lock();
      co_return s;
    };
    JoinHandle<absl::Status> w = Spawn(waiter(&mu, &cv, &held_after));
    (void)co_await Sleep(absl::Seconds(1));
    // Hold the mutex while cancelling: the waiter must wait for it before returning.
    CORIO_CO_ASSIGN_OR_RETURN(MutexLock lock, co_await mu.Lock());
    w.Cancel();
    (void)co_await Sleep(absl::Seconds(1));
    EXPECT_FALSE(w.done());
    lock.Unlock();
    absl::Status s = co_await std::move(w);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_TRUE(held_after);
    EXPECT_FALSE(mu.is_locked());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio
