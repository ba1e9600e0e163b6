#include "net/fetch/loop_poster.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tasks/event.h"
#include "tasks/run.h"

namespace corio::fetch {
namespace {

TEST(LoopPosterTest, RunsOnTheLoopFromAnotherThread) {
  std::atomic<bool> on_loop{false};
  auto loop = *EventLoop::Create();
  auto main = [&]() -> Task<absl::Status> {
    Event done;
    LoopPoster poster = LoopPoster::ForCurrentLoop();
    EventLoop* self = EventLoop::Current();
    std::thread t([&] {
      EXPECT_TRUE(poster.Post([&] {
        on_loop = EventLoop::Current() == self;
        done.Set();
      }));
    });
    absl::Status s = co_await done.Wait();
    t.join();
    co_return s;
  };
  EXPECT_TRUE(corio::Run(*loop, main()).ok());
  EXPECT_TRUE(on_loop);
}

TEST(LoopPosterTest, DropsCallbacksOnceTheLoopIsGone) {
  LoopPoster poster;
  EXPECT_FALSE(poster.Post([] {}));  // an empty poster
  {
    auto loop = *EventLoop::Create();
    auto grab = [&]() -> Task<absl::Status> {
      poster = LoopPoster::ForCurrentLoop();
      co_return absl::OkStatus();
    };
    ASSERT_TRUE(corio::Run(*loop, grab()).ok());
  }
  bool ran = false;
  std::thread t([&] { EXPECT_FALSE(poster.Post([&] { ran = true; })); });
  t.join();
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace corio::fetch
