// SignalSet: an event loop's signal handlers, delivered through a self-pipe. Internal to
// //loop; users call EventLoop::AddSignalHandler.
//
// The process-wide sigaction handler writes the signal number to the pipe of the loop that
// registered it (async-signal-safe: one write()); the loop's poller sees the pipe readable and
// runs the handlers on the loop's thread. Works whichever thread the kernel picks, without
// touching signal masks.
#ifndef CORIO_LOOP_SIGNAL_SET_H_
#define CORIO_LOOP_SIGNAL_SET_H_

#include <signal.h>

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "loop/poller.h"

namespace corio::loop_internal {

class SignalSet {
 public:
  static absl::StatusOr<std::unique_ptr<SignalSet>> Create(Poller& poller, uint64_t token);
  ~SignalSet();  // removes every handler, restoring previous dispositions

  absl::Status Add(int signo, absl::AnyInvocable<void()> handler);
  absl::Status Remove(int signo);
  // Reads the pipe and runs the handlers of the signals that arrived.
  void Dispatch();

 private:
  SignalSet(Poller& poller, int read_fd, int write_fd)
      : poller_(poller), read_fd_(read_fd), write_fd_(write_fd) {}

  struct Entry {
    absl::AnyInvocable<void()> handler;
    struct sigaction previous;
    bool active = false;
  };

  Poller& poller_;
  const int read_fd_;
  const int write_fd_;
  Entry entries_[NSIG];
};

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_SIGNAL_SET_H_
