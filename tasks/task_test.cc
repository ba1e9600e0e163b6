#include "tasks/task.h"

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "base/check.h"
#include "gtest/gtest.h"
#include "loop/resume.h"

namespace corio {
namespace {

// Runs a Task to completion without an event loop (Task itself needs none): a minimal driver
// coroutine awaits it, resumed through corio's trampoline as the loop would. This keeps the
// test on //tasks:task alone, so it fails to link if :task does.
template <typename T>
struct Driver {
  struct promise_type {
    Driver get_return_object() {
      return Driver{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { exception = std::current_exception(); }
    std::exception_ptr exception;
  };
  std::coroutine_handle<promise_type> h;
};

template <typename T>
Driver<T> Drive(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}
inline Driver<void> Drive(Task<void> task, std::optional<bool>* out) {
  co_await std::move(task);
  out->emplace(true);
}

// The task's value; rethrows what escaped it. Precondition: it never suspends on anything but
// nested tasks (no loop runs it).
template <typename T>
T RunSync(Task<T> task) {
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> out;
  auto d = Drive(std::move(task), &out);
  ResumeCoroutine(d.h);
  CORIO_CHECK(d.h.done());
  std::exception_ptr e = d.h.promise().exception;
  d.h.destroy();
  if (e) std::rethrow_exception(e);
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

Task<int> Leaf(int x) { co_return x * 2; }

Task<int> Sum(int a, int b) {
  const int x = co_await Leaf(a);
  const int y = co_await Leaf(b);
  co_return x + y;
}

Task<void> Throws() {
  throw std::runtime_error("boom");
  co_return;
}

Task<int> CatchesChildException() {
  try {
    co_await Throws();
  } catch (const std::runtime_error& e) {
    co_return 7;
  }
  co_return 0;
}

Task<std::unique_ptr<std::string>> MoveOnly() { co_return std::make_unique<std::string>("moved"); }

Task<int> Deep(int n) {
  if (n == 0) co_return 0;
  const int below = co_await Deep(n - 1);
  co_return below + 1;
}

Task<long> Chain(int n) {
  long total = 0;
  for (int i = 0; i < n; ++i) total += co_await Leaf(1);
  co_return total;
}

TEST(TaskTest, AwaitsNestedTasksAndReturnsValues) { EXPECT_EQ(RunSync(Sum(2, 3)), 10); }

TEST(TaskTest, ExceptionsReachTheAwaiter) {
  EXPECT_EQ(RunSync(CatchesChildException()), 7);
  EXPECT_THROW(RunSync(Throws()), std::runtime_error);
}

TEST(TaskTest, MoveOnlyResults) {
  std::unique_ptr<std::string> r = RunSync(MoveOnly());
  EXPECT_EQ(*r, "moved");
}

// A million nested awaits must not grow the stack, in every build mode: GCC at -O0 and under
// its sanitizers emits symmetric transfer as a plain call (libcoro #273); corio's trampoline
// keeps the stack flat anyway.
constexpr int kDeep = 1'000'000;
TEST(TaskTest, MillionDeepAwaitChainUsesConstantStack) { EXPECT_EQ(RunSync(Deep(kDeep)), kDeep); }

TEST(TaskTest, MillionSequentialAwaits) { EXPECT_EQ(RunSync(Chain(1'000'000)), 2'000'000); }

Task<int> HoldsToken(std::shared_ptr<int> token) { co_return *token; }

TEST(TaskTest, DestroyingANeverStartedTaskFreesItsParameters) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> weak = token;
  {
    Task<int> t = HoldsToken(std::move(token));
    EXPECT_TRUE(t.valid());
    EXPECT_FALSE(weak.expired());
  }
  EXPECT_TRUE(weak.expired());
}

TEST(TaskTest, MakeTaskMovesCapturesIntoTheFrame) {
  auto make = [] {
    std::string name = "captured";
    // The lambda object dies when `make` returns; MakeTask keeps its captures alive.
    return MakeTask([name]() -> Task<size_t> { co_return name.size(); });
  };
  EXPECT_EQ(RunSync(make()), 8u);
}

}  // namespace
}  // namespace corio
