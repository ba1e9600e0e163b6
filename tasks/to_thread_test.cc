#include "tasks/to_thread.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/tasks_test_util.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTaskRealTime;
using ::corio::testing::StatusIs;

TEST(ToThreadTest, RunsOnAnotherThreadAndReturnsTheResult) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto main = [&]() -> Task<absl::StatusOr<std::string>> {
    auto work = [&] {
      EXPECT_NE(std::this_thread::get_id(), loop_thread);
      return std::string("from a pool thread");
    };
    absl::StatusOr<std::string> s = co_await ToThread(std::move(work));
    EXPECT_EQ(std::this_thread::get_id(), loop_thread);  // resumed on the loop's thread
    co_return s;
  };
  EXPECT_THAT(RunTaskRealTime(main()), IsOkAndHolds("from a pool thread"));
}

TEST(ToThreadTest, StatusResultsPassThroughAndExceptionsAreRethrown) {
  auto main = []() -> Task<absl::Status> {
    absl::Status s = co_await ToThread([] { return absl::DataLossError("disk"); });
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
    absl::Status v = co_await ToThread([] {});
    EXPECT_THAT(v, IsOk());
    try {
      (void)co_await ToThread([]() -> int { throw std::runtime_error("blocking call failed"); });
    } catch (const std::runtime_error& e) {
      co_return absl::AbortedError(e.what());
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTaskRealTime(main()),
              StatusIs(absl::StatusCode::kAborted, "blocking call failed"));
}

using ::corio::testing::Gate;

// Cancel resumes the task at once, without waiting for the blocking call: the gate the call
// waits on is opened in the same callback as the cancel, so a ToThread that waited for the call
// instead would resume with its value (5), not CANCELLED. The late result must then be dropped
// without resuming the task a second time, with the loop still running.
TEST(ToThreadTest, CancelResumesAtOnceAndTheLateResultIsDropped) {
  auto loop = EventLoop::Create().value();
  auto gate = std::make_shared<Gate>();
  ThreadPool pool(1);
  int resumed = 0;
  JoinHandle<absl::StatusOr<int>> h = Spawn(
      *loop,
      [](ThreadPool* pool, std::shared_ptr<Gate> gate, int* resumed) -> Task<absl::StatusOr<int>> {
        // Named, not written inside the co_await (GCC 12, see task.h).
        auto blocking = [gate] {
          gate->Wait();  // blocks until the test lets it go
          return 5;
        };
        absl::StatusOr<int> r = co_await ToThread(std::move(blocking), *pool);
        ++*resumed;
        co_return r;
      }(&pool, gate, &resumed));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());  // the task waits on the pool
  loop->CallSoon([&] {
    h.Cancel();
    gate->Open();  // from here the call may finish at any moment
  });
  ASSERT_THAT(loop->RunUntil([&] { return h.done(); }), IsOk());
  EXPECT_THAT(std::move(h).TakeResult(), StatusIs(absl::StatusCode::kCancelled));
  // The job still holds the loop's pending work until its late result is posted (and dropped).
  ASSERT_THAT(loop->RunUntil([&] { return !loop->HasPendingWork(); }), IsOk());
  EXPECT_EQ(resumed, 1);
}

TEST(ToThreadTest, AJobInFlightIsPendingWorkOfItsLoop) {
  auto loop = EventLoop::Create().value();
  auto gate = std::make_shared<Gate>();
  ThreadPool pool(1);
  JoinHandle<absl::Status> h =
      Spawn(*loop, [](std::shared_ptr<Gate> gate, ThreadPool* pool) -> Task<absl::Status> {
        auto blocking = [gate] { gate->Wait(); };
        co_return co_await ToThread(std::move(blocking), *pool);
      }(gate, &pool));
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_TRUE(loop->HasPendingWork());
  gate->Open();
  ASSERT_THAT(loop->RunUntil([&] { return h.done(); }), IsOk());
  EXPECT_THAT(std::move(h).TakeResult(), IsOk());
}

}  // namespace
}  // namespace corio
