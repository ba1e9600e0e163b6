#include "loop/signal_set.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "loop/io_events.h"

namespace corio::loop_internal {
namespace {

// signo -> write end of the owning loop's pipe, or -1.
std::atomic<int> g_signal_pipe[NSIG];

void InitTable() {
  static const bool once = [] {
    for (auto& fd : g_signal_pipe) fd.store(-1, std::memory_order_relaxed);
    return true;
  }();
  (void)once;
}

extern "C" void CorioOnSignal(int signo) {
  const int saved_errno = errno;
  const int fd = g_signal_pipe[signo].load(std::memory_order_relaxed);
  if (fd >= 0) {
    const unsigned char byte = static_cast<unsigned char>(signo);
    ssize_t n = write(fd, &byte, 1);  // a full pipe drops it: the loop has others queued
    (void)n;
  }
  errno = saved_errno;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SignalSet>> SignalSet::Create(Poller& poller, uint64_t token) {
  InitTable();
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  if (absl::Status s = poller.Add(fds[0], token, io::kReadable); !s.ok()) {
    close(fds[0]);
    close(fds[1]);
    return s;
  }
  return std::unique_ptr<SignalSet>(new SignalSet(poller, fds[0], fds[1]));
}

SignalSet::~SignalSet() {
  for (int signo = 1; signo < NSIG; ++signo) {
    if (entries_[signo].active) (void)Remove(signo);
  }
  (void)poller_.Remove(read_fd_, 0);
  close(read_fd_);
  close(write_fd_);
}

absl::Status SignalSet::Add(int signo, absl::AnyInvocable<void()> handler) {
  if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP) {
    return absl::InvalidArgumentError(absl::StrCat("cannot handle signal ", signo));
  }
  Entry& e = entries_[signo];
  if (e.active) {  // replace the handler, keep the original disposition
    e.handler = std::move(handler);
    return absl::OkStatus();
  }
  int expected = -1;
  if (!g_signal_pipe[signo].compare_exchange_strong(expected, write_fd_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("signal ", signo, " (", strsignal(signo), ") is handled by another event loop"));
  }
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = &CorioOnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(signo, &action, &e.previous) != 0) {
    const int err = errno;
    g_signal_pipe[signo].store(-1);
    return absl::ErrnoToStatus(err, absl::StrCat("sigaction(", signo, ")"));
  }
  e.handler = std::move(handler);
  e.active = true;
  return absl::OkStatus();
}

absl::Status SignalSet::Remove(int signo) {
  if (signo <= 0 || signo >= NSIG || !entries_[signo].active) {
    return absl::NotFoundError(absl::StrCat("no handler for signal ", signo, " on this loop"));
  }
  Entry& e = entries_[signo];
  sigaction(signo, &e.previous, nullptr);
  g_signal_pipe[signo].store(-1);
  e.active = false;
  e.handler = nullptr;
  return absl::OkStatus();
}

void SignalSet::Dispatch() {
  unsigned char buf[128];
  for (;;) {
    const ssize_t n = read(read_fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      Entry& e = entries_[buf[i]];
      if (!e.active || !e.handler) continue;
      // Moved out while it runs: the handler may remove or replace itself.
      absl::AnyInvocable<void()> handler = std::move(e.handler);
      handler();
      if (e.active && !e.handler) e.handler = std::move(handler);
    }
  }
}

}  // namespace corio::loop_internal
