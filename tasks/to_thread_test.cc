#include "tasks/to_thread.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tasks/run.h"
#include "tasks/spawn.h"
#include "tasks/sleep.h"
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
  EXPECT_THAT(RunTaskRealTime(main()), StatusIs(absl::StatusCode::kAborted, "blocking call failed"));
}

// Blocks pool threads until Open(). (A mutex and condition variable: ThreadSanitizer sees
// through them, unlike std::future's futex waits.)
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

TEST(ToThreadTest, CancelResumesAtOnceAndTheLateResultIsDropped) {
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> finished{false};
  ThreadPool pool(1);
  auto main = [&]() -> Task<absl::Status> {
    JoinHandle<absl::StatusOr<int>> h = Spawn(
        [](ThreadPool* pool, std::shared_ptr<Gate> gate, std::atomic<bool>* finished)
            -> Task<absl::StatusOr<int>> {
          // Named, not written inside the co_await (GCC 12, see task.h).
          auto blocking = [gate, finished] {
            gate->Wait();  // blocks until the test lets it go
            finished->store(true);
            return 5;
          };
          co_return co_await ToThread(std::move(blocking), *pool);
        }(&pool, gate, &finished));
    (void)co_await Sleep(absl::Milliseconds(1));
    h.Cancel();
    absl::StatusOr<int> r = co_await std::move(h);
    EXPECT_FALSE(finished.load());  // resumed while the blocking call still runs
    co_return r.status();
  };
  EXPECT_THAT(RunTaskRealTime(main()), StatusIs(absl::StatusCode::kCancelled));
  gate->Open();  // the loop is gone by now: the result must be dropped safely
  // ThreadPool's destructor runs the job to completion before `pool` goes away.
}

}  // namespace
}  // namespace corio
