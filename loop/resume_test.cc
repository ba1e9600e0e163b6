#include "loop/resume.h"

#include <coroutine>
#include <exception>

#include "gtest/gtest.h"

namespace corio {
namespace {

// A coroutine that, when resumed, transfers to `next` (if any) and counts its resumptions.
struct Step {
  struct promise_type {
    Step get_return_object() {
      return Step{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

struct TransferAwaiter {
  std::coroutine_handle<> next;
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
    return next ? TransferTo(next) : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

Step Hop(std::coroutine_handle<>* next, int* runs) {
  ++*runs;
  co_await TransferAwaiter{*next};
}

TEST(ResumeTest, ALongChainOfTransfersRunsIterativelyWithConstantStack) {
  // 200k coroutines, each handing over to the next when resumed: through the trampoline they
  // run one after another from a single ResumeCoroutine, with no stack growth.
  constexpr int kN = 200'000;
  std::vector<std::coroutine_handle<>> next(kN);
  std::vector<Step> steps;
  steps.reserve(kN);
  int runs = 0;
  for (int i = 0; i < kN; ++i) steps.push_back(Hop(&next[i], &runs));
  for (int i = 0; i + 1 < kN; ++i) next[i] = steps[i + 1].h;
  ResumeCoroutine(steps[0].h);
  EXPECT_EQ(runs, kN);
  for (Step& s : steps) s.h.destroy();  // each is suspended at its hand-over
}

TEST(ResumeTest, OutsideResumeCoroutineTransferIsPlainSymmetricTransfer) {
  std::coroutine_handle<> none;
  int runs = 0;
  Step s = Hop(&none, &runs);
  EXPECT_EQ(TransferTo(s.h), s.h);  // no trampoline active: hand the handle back
  s.h.resume();
  EXPECT_EQ(runs, 1);
  s.h.destroy();
}

}  // namespace
}  // namespace corio
