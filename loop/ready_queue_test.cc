#include "loop/ready_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace corio::loop_internal {
namespace {

TEST(ReadyQueueTest, FifoAcrossGrowthWithMixedCallables) {
  ReadyQueue q;
  std::vector<int> order;
  const std::string pad(40, 'x');  // forces some callables onto the heap
  // Interleave pops with pushes so the ring wraps before it grows.
  int next = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 300; ++i) {
      const int id = next++;
      if (id % 3 == 0) {
        q.Push(Callback(
            [&order, id, pad] { order.push_back(id + static_cast<int>(pad.size()) * 0); }));
      } else {
        q.Push(Callback([&order, id] { order.push_back(id); }));
      }
    }
    for (int i = 0; i < 200; ++i) q.Pop()();
  }
  while (!q.empty()) q.Pop()();
  ASSERT_EQ(order.size(), 1500u);
  for (int i = 0; i < 1500; ++i) EXPECT_EQ(order[i], i);
}

TEST(ReadyQueueTest, DestructionFreesQueuedCallbacksUnrun) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  {
    ReadyQueue q;
    for (int i = 0; i < 1000; ++i) q.Push(Callback([t = token] { ++*t; }));
    token.reset();
    EXPECT_EQ(q.size(), 1000u);
  }
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace corio::loop_internal
