#include "loop/callback.h"

#include <coroutine>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace corio {
namespace {

// A minimal coroutine that counts its resumptions.
struct Counter {
  struct promise_type {
    Counter get_return_object() { return Counter{Handle::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  using Handle = std::coroutine_handle<promise_type>;
  Handle h;
};

Counter Count(int* n) {
  for (;;) {
    ++*n;
    co_await std::suspend_always{};
  }
}

TEST(CallbackTest, IsThirtyTwoBytes) { EXPECT_EQ(sizeof(Callback), 32u); }

TEST(CallbackTest, RunsInlineAndBoxedCallables) {
  int calls = 0;
  Callback small([&calls] { ++calls; });
  small();
  small();
  EXPECT_EQ(calls, 2);

  std::string big(100, 'x');
  std::string seen;
  Callback boxed([big, &seen, a = 1, b = 2, c = 3] { seen = big + std::to_string(a + b + c); });
  boxed();
  EXPECT_EQ(seen, big + "6");
}

TEST(CallbackTest, ResumesACoroutineHandle) {
  int n = 0;
  Counter c = Count(&n);
  Callback cb(c.h);
  cb();
  cb();
  EXPECT_EQ(n, 2);
  c.h.destroy();
}

TEST(CallbackTest, MoveTransfersOwnershipAndDestroyFreesCaptures) {
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> weak = token;
  {
    Callback a([t = std::move(token)] { ++*t; });
    Callback b(std::move(a));
    EXPECT_FALSE(static_cast<bool>(a));  // NOLINT(bugprone-use-after-move)
    ASSERT_TRUE(static_cast<bool>(b));
    b();
    EXPECT_EQ(*weak.lock(), 8);
    Callback c;
    c = std::move(b);
    EXPECT_FALSE(weak.expired());
  }
  EXPECT_TRUE(weak.expired());  // destroyed without a leak, never run again
}

TEST(CallbackTest, BoxedCallableIsFreedWithoutRunning) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  {
    std::string pad(64, 'p');
    Callback cb([t = std::move(token), pad] {});
    Callback moved = std::move(cb);
  }
  EXPECT_TRUE(weak.expired());
}

TEST(CallbackTest, TypeNameNamesTheCallable) {
  Callback empty;
  EXPECT_STREQ(empty.TypeName(), "(empty)");
  struct Named {
    void operator()() {}
  };
  Callback named{Named{}};
  EXPECT_NE(std::string(named.TypeName()).find("Named"), std::string::npos);
}

}  // namespace
}  // namespace corio
