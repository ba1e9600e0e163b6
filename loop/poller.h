// Poller: the OS readiness interface under the event loop (epoll, io_uring). Internal to
// //loop: EventLoop owns one and is its only caller; implementations are tested through the
// same conformance suite (poller_test.cc).
//
// A registration is keyed by the fd and carries an opaque 64-bit token that Wait() reports
// back. Interest bits are io::kReadable / io::kWritable, optionally io::kEdgeTriggered and
// io::kPriority.
//
// Threading: not thread-safe; every call comes from the loop's thread.
// Errors: Add/Modify/Remove return the errno of the failing syscall as a Status (io_uring
// learns of a bad fd only at Wait(), where it reports io::kError for the token). Wait() returns
// the errno of epoll_wait / io_uring_enter; an interrupted wait (EINTR) returns 0 events.
#ifndef CORIO_LOOP_POLLER_H_
#define CORIO_LOOP_POLLER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace corio::loop_internal {

struct PollEvent {
  uint64_t token;
  uint32_t events;  // io::kReadable | io::kWritable | io::kError | io::kHangup
};

class Poller {
 public:
  virtual ~Poller() = default;

  virtual absl::Status Add(int fd, uint64_t token, uint32_t interest) = 0;
  virtual absl::Status Modify(int fd, uint64_t token, uint32_t interest) = 0;
  // After Remove returns, Wait() never reports `token` again.
  virtual absl::Status Remove(int fd, uint64_t token) = 0;

  // Waits until at least one registration is ready or `timeout_ns` passes (-1: no limit,
  // 0: just look), and stores up to out.size() events. Returns how many were stored.
  virtual absl::StatusOr<int> Wait(int64_t timeout_ns, absl::Span<PollEvent> out) = 0;

  virtual const char* name() const = 0;
};

std::unique_ptr<Poller> NewEpollPoller(absl::Status* error);
// Returns nullptr and sets *error when io_uring is unavailable (old kernel, seccomp, limits).
std::unique_ptr<Poller> NewUringPoller(absl::Status* error);

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_POLLER_H_
