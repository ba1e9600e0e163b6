#include "loop/signal_set.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "loop/io_events.h"

namespace corio::loop_internal {
namespace {

// signo -> write end of the signal's pipe (-1 until first used; then never changed or closed).
std::atomic<int> g_signal_write_fd[NSIG];
// signo -> read end, and which SignalSet handles the signal (one loop per signal).
int g_signal_read_fd[NSIG];
const SignalSet* g_owner[NSIG];
std::mutex g_mu;  // guards g_signal_read_fd, g_owner and pipe creation

void InitTable() {
  static const bool once = [] {
    for (int i = 0; i < NSIG; ++i) {
      g_signal_write_fd[i].store(-1, std::memory_order_relaxed);
      g_signal_read_fd[i] = -1;
      g_owner[i] = nullptr;
    }
    return true;
  }();
  (void)once;
}

extern "C" void CorioOnSignal(int signo) {
  const int saved_errno = errno;
  const int fd = g_signal_write_fd[signo].load(std::memory_order_acquire);
  if (fd >= 0) {
    const unsigned char byte = static_cast<unsigned char>(signo);
    ssize_t n = write(fd, &byte, 1);  // a full pipe drops it: the loop has others queued
    (void)n;
  }
  errno = saved_errno;
}

// Reads and discards what the pipe holds; returns how many bytes that was.
int DrainPipe(int fd) {
  unsigned char buf[128];
  int total = 0;
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return total;
    total += static_cast<int>(n);
  }
}

}  // namespace

SignalSet::~SignalSet() {
  for (int signo = 1; signo < NSIG; ++signo) {
    if (entries_[signo].active) (void)Remove(signo);
  }
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
  InitTable();
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_owner[signo] != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("signal ", signo, " (", strsignal(signo),
                                                      ") is handled by another event loop"));
  }
  if (g_signal_read_fd[signo] < 0) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
    g_signal_read_fd[signo] = fds[0];
    g_signal_write_fd[signo].store(fds[1], std::memory_order_release);
  }
  const int read_fd = g_signal_read_fd[signo];
  DrainPipe(read_fd);  // arrivals for an earlier owner are not ours
  if (absl::Status s =
          poller_.Add(read_fd, token_base_ | static_cast<uint64_t>(signo), io::kReadable);
      !s.ok()) {
    return s;
  }
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = &CorioOnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(signo, &action, &e.previous) != 0) {
    const int err = errno;
    (void)poller_.Remove(read_fd, token_base_ | static_cast<uint64_t>(signo));
    return absl::ErrnoToStatus(err, absl::StrCat("sigaction(", signo, ")"));
  }
  g_owner[signo] = this;
  e.read_fd = read_fd;
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
  (void)poller_.Remove(e.read_fd, token_base_ | static_cast<uint64_t>(signo));
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_owner[signo] = nullptr;
  }
  e.active = false;
  e.read_fd = -1;
  e.handler = nullptr;
  return absl::OkStatus();
}

void SignalSet::Dispatch(int signo) {
  if (signo <= 0 || signo >= NSIG) return;
  Entry& e = entries_[signo];
  if (!e.active) return;
  for (int arrivals = DrainPipe(e.read_fd); arrivals > 0; --arrivals) {
    if (!e.active || !e.handler) return;
    // Moved out while it runs: the handler may remove or replace itself.
    absl::AnyInvocable<void()> handler = std::move(e.handler);
    handler();
    if (e.active && !e.handler) e.handler = std::move(handler);
  }
}

}  // namespace corio::loop_internal
