// A downstream user's test: schedule work on corio's event loop.
#include <vector>

#include "gtest/gtest.h"
#include "loop/event_loop.h"

TEST(ConsumerTest, TimersAndCallbacksRunInOrder) {
  auto loop = corio::EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  std::vector<int> order;
  (*loop)->CallLater(absl::Milliseconds(2), [&] {
    order.push_back(2);
    (*loop)->Stop();
  });
  (*loop)->CallSoon([&] { order.push_back(1); });
  ASSERT_TRUE((*loop)->Run().ok());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}
