// Clock: where the event loop gets the time. Injectable, so tests run timers on a virtual
// clock (//testing:virtual_clock) instantly and deterministically.
//
//   corio::EventLoop::Options options;
//   options.clock = &my_clock;          // nullptr: SystemClock() (CLOCK_MONOTONIC)
//
// Times are absl::Time values on a monotonic timeline whose epoch is unspecified (like
// asyncio's loop.time()); compare and subtract them, do not format them as dates.
//
// Threading: Now() may be called from any thread.
#ifndef CORIO_LOOP_CLOCK_H_
#define CORIO_LOOP_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/time.h"
#include "base/config.h"  // first: a clear error below C++20

namespace corio {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // Called by a loop that has nothing to run, no I/O ready, and its next timer at `deadline`.
  // A real clock returns false and the loop sleeps until then. A virtual clock may instead
  // jump to `deadline` and return true, so idle time costs nothing.
  virtual bool AdvanceWhenIdle(absl::Time deadline) { return false; }

  // True for clocks that do not follow real time; the loop then never sleeps on a timeout
  // (it would sleep in real time for virtual durations).
  virtual bool is_virtual() const { return false; }
};

// The process-wide monotonic clock (CLOCK_MONOTONIC).
Clock& SystemClock();

namespace loop_internal {
inline int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
inline absl::Time NanosToTime(int64_t ns) { return absl::FromUnixNanos(ns); }
inline int64_t TimeToNanos(absl::Time t) { return absl::ToUnixNanos(t); }
}  // namespace loop_internal

}  // namespace corio

#endif  // CORIO_LOOP_CLOCK_H_
