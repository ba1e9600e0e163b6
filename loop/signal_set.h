// SignalSet: an event loop's signal handlers, delivered through self-pipes. Internal to
// //loop; users call EventLoop::AddSignalHandler.
//
// The process-wide sigaction handler writes to the pipe of the signal that arrived
// (async-signal-safe: one write()); the loop that handles that signal watches the pipe's read
// end and runs the handler on its thread. Works whichever thread the kernel picks, without
// touching signal masks. Each signal's pipe is created on first use and never closed: a
// handler running on another thread may be about to write to it, and a closed number could be
// reused by an unrelated file by then.
#ifndef CORIO_LOOP_SIGNAL_SET_H_
#define CORIO_LOOP_SIGNAL_SET_H_

#include <signal.h>

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "loop/poller.h"

namespace corio::loop_internal {

class SignalSet {
 public:
  // Signal `signo`'s pipe is registered with `poller` under token `token_base | signo`.
  SignalSet(Poller& poller, uint64_t token_base) : poller_(poller), token_base_(token_base) {}
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;
  ~SignalSet();  // removes every handler, restoring previous dispositions

  absl::Status Add(int signo, absl::AnyInvocable<void()> handler);
  absl::Status Remove(int signo);
  // Reads signal `signo`'s pipe and runs its handler once per arrival.
  void Dispatch(int signo);

 private:
  struct Entry {
    absl::AnyInvocable<void()> handler;
    struct sigaction previous;
    int read_fd = -1;
    bool active = false;
  };

  Poller& poller_;
  const uint64_t token_base_;
  Entry entries_[NSIG];
};

}  // namespace corio::loop_internal

#endif  // CORIO_LOOP_SIGNAL_SET_H_
