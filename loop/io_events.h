// Readiness event bits shared by the loop's fd watchers and its pollers.
#ifndef CORIO_LOOP_IO_EVENTS_H_
#define CORIO_LOOP_IO_EVENTS_H_

#include <cstdint>

#include "base/config.h"  // first: a clear error below C++20

namespace corio::io {

// Interest and readiness.
inline constexpr uint32_t kReadable = 1u << 0;
inline constexpr uint32_t kWritable = 1u << 1;
// Readiness only: the fd has an error pending (SO_ERROR) or the peer hung up. Always reported,
// whatever the interest, so a waiter learns of it.
inline constexpr uint32_t kError = 1u << 2;
inline constexpr uint32_t kHangup = 1u << 3;
// Interest only: report transitions (edge-triggered) instead of the state (level-triggered).
// Edge-triggered watchers must read/write until EAGAIN before waiting again.
inline constexpr uint32_t kEdgeTriggered = 1u << 4;
// Interest and readiness, reported only when asked for: urgent data is pending (EPOLLPRI /
// POLLPRI), e.g. a TCP urgent mark. A read of a TCP socket stops short at the mark although
// bytes follow it, so "a short read drained the socket" does not hold while this is reported.
inline constexpr uint32_t kPriority = 1u << 5;

}  // namespace corio::io

#endif  // CORIO_LOOP_IO_EVENTS_H_
