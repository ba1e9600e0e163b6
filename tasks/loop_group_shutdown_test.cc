// How the task layer shuts down with a LoopGroup (issue 10 #4): kDrain waits for work in flight
// (ToThread jobs) and cancels what can never finish; kCancel cancels every live task and waits
// for it, so frames and what they hold are released.
#include <atomic>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "tasks/event.h"
#include "tasks/tasks_test_util.h"
#include "tasks/to_thread.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::Gate;

TEST(LoopGroupShutdownTest, DrainWaitsForToThreadJobs) {
  LoopGroup::Options options;
  options.threads = 1;
  auto group = LoopGroup::Create(options).value();
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> finished{false};
  ASSERT_TRUE(group->Post([&] {
    Spawn([](std::shared_ptr<Gate> gate, std::atomic<bool>* finished) -> Task<void> {
      auto blocking = [gate] { gate->Wait(); };
      absl::Status s = co_await ToThread(std::move(blocking));
      if (s.ok()) finished->store(true);
    }(gate, &finished))
        .Detach();
  }));
  std::thread shut([&] { group->Shutdown(LoopGroup::kDrain); });
  while (group->Post([] {})) std::this_thread::yield();  // shutdown has begun
  group->loop(0).CallSoonThreadSafe([gate] { gate->Open(); });
  shut.join();
  gate->Open();
  EXPECT_TRUE(finished.load())
      << "Shutdown(kDrain) returned before the ToThread job's task finished";
}

TEST(LoopGroupShutdownTest, DrainCancelsTasksThatCanNeverFinishAndWaitsForThem) {
  LoopGroup::Options options;
  options.threads = 2;
  auto group = LoopGroup::Create(options).value();
  std::atomic<int> ended{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(group->Post([&] {
      Spawn([](std::atomic<int>* ended) -> Task<void> {
        Event never;
        absl::Status s = co_await never.Wait();
        if (absl::IsCancelled(s)) ended->fetch_add(1);
      }(&ended))
          .Detach();
    }));
  }
  group->Shutdown(LoopGroup::kDrain);
  EXPECT_EQ(ended.load(), 4) << "tasks still suspended after Shutdown(kDrain)";
}

TEST(LoopGroupShutdownTest, CancelCancelsLiveTasksAndRunsTheirCleanup) {
  LoopGroup::Options options;
  options.threads = 2;
  auto group = LoopGroup::Create(options).value();
  std::atomic<int> cleaned{0};
  std::atomic<int> started{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(group->Post([&] {
      Spawn([](std::atomic<int>* started, std::atomic<int>* cleaned) -> Task<void> {
        started->fetch_add(1);
        absl::Status s = co_await Sleep(absl::Hours(1));
        if (absl::IsCancelled(s)) cleaned->fetch_add(1);
      }(&started, &cleaned))
          .Detach();
    }));
  }
  while (started.load() < 4) std::this_thread::yield();
  group->Shutdown(LoopGroup::kCancel);
  EXPECT_EQ(cleaned.load(), 4) << "live tasks were not cancelled and drained by Shutdown(kCancel)";
}

TEST(LoopGroupShutdownTest, DestroyingTheGroupCancelsLiveTasksAndRunsTheirCleanup) {
  std::atomic<int> cleaned{0};
  std::atomic<int> started{0};
  {
    LoopGroup::Options options;
    options.threads = 2;
    auto group = LoopGroup::Create(options).value();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(group->Post([&] {
        Spawn([](std::atomic<int>* started, std::atomic<int>* cleaned) -> Task<void> {
          started->fetch_add(1);
          absl::Status s = co_await Sleep(absl::Hours(1));
          if (absl::IsCancelled(s)) cleaned->fetch_add(1);
        }(&started, &cleaned))
            .Detach();
      }));
    }
    while (started.load() < 4) std::this_thread::yield();
  }
  EXPECT_EQ(cleaned.load(), 4) << "~LoopGroup destroyed live tasks without cancelling them";
}

}  // namespace
}  // namespace corio
