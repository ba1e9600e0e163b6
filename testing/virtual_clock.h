// VirtualClock: a Clock for tests. Time moves only when the test says so, or, with auto-advance
// (the default), when the loop has nothing to do: it then jumps straight to the next timer. A
// test that sleeps an hour runs in microseconds and always sees the same order of events.
//
//   corio::testing::VirtualClock clock;
//   corio::EventLoop::Options options;
//   options.clock = &clock;
//   auto loop = corio::EventLoop::Create(std::move(options)).value();
//   loop->CallLater(absl::Hours(1), [&] { loop->Stop(); });
//   loop->Run();                       // returns at once; clock.Now() is one hour later
//
// Auto-advance assumes every source of work is visible to the loop: its own callbacks and fds
// (in-process fakes on the same loop, whose loopback I/O is ready as soon as it is written).
// Work coming from another thread can be overtaken by a timer: turn auto-advance off and use
// Advance() + RunUntilIdle() for such tests.
//
// Threading: all methods may be called from any thread.
#ifndef CORIO_TESTING_VIRTUAL_CLOCK_H_
#define CORIO_TESTING_VIRTUAL_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "loop/clock.h"

namespace corio::testing {

class VirtualClock final : public Clock {
 public:
  // Starts at an arbitrary fixed time (tests should not depend on its value).
  VirtualClock() : VirtualClock(absl::FromUnixSeconds(1'000'000)) {}
  explicit VirtualClock(absl::Time start) : now_ns_(absl::ToUnixNanos(start)) {}

  absl::Time Now() const override {
    return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire));
  }
  // Moves time forward (negative durations are ignored: time never goes back).
  void Advance(absl::Duration d);
  void AdvanceTo(absl::Time t);
  void SetAutoAdvance(bool on) { auto_advance_.store(on, std::memory_order_relaxed); }

  bool AdvanceWhenIdle(absl::Time deadline) override;
  bool is_virtual() const override { return true; }

 private:
  std::atomic<int64_t> now_ns_;
  std::atomic<bool> auto_advance_{true};
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_VIRTUAL_CLOCK_H_
