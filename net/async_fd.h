// AsyncFd: an fd driven by the current event loop, for coroutines: owns the fd, watches it
// edge-triggered for both directions (and for urgent data), and lets one reader and one writer
// wait for readiness.
// The building block of TcpStream and TcpListener (and of anything fd-based a user writes).
//
//   CORIO_ASSIGN_OR_RETURN(corio::AsyncFd afd, corio::AsyncFd::Create(fd));
//   for (;;) {
//     ssize_t n = read(afd.fd(), buf, len);
//     if (n >= 0 || errno != EAGAIN) break;
//     afd.ClearReadable();                                  // edge-triggered: saw EAGAIN
//     CORIO_CO_RETURN_IF_ERROR(co_await afd.Readable());
//   }
//
// Completion contract: Readable()/Writable() resume once, on the loop's thread of the waiting
// task. They do not suspend when the task is already cancelled (CANCELLED) or the fd is
// already known ready in that direction (OK). Otherwise they resume on a later turn (never
// inline): with OK when the fd is ready in that direction or has an error or hangup pending
// (the next syscall will tell), CANCELLED when the task is cancelled, DEADLINE_EXCEEDED when
// the `deadline` passed first (loop clock), and CANCELLED ("fd closed while waiting") when the
// AsyncFd is closed or destroyed meanwhile — also when that happens after a wake-up was
// scheduled but before the task ran, so a task resumed with OK may rely on the AsyncFd being
// alive. Yield() always suspends and resumes on the next turn with OK, or CANCELLED when the
// task was cancelled or the fd closed meanwhile. At most one waiter per direction.
// Threading: create, use and destroy on the loop's thread.
// Ownership: owns the fd; destroying (or Close()) stops watching and closes it, and resumes a
// waiter with CANCELLED. Moving an AsyncFd while a task waits on it is harmless: waiters refer
// to the heap-allocated state, which moves with the AsyncFd.
// Errors: Create fails with the errno of fcntl or of registering with the poller (EPERM for a
// regular file under epoll); the fd is closed exactly once on every failure path.
#ifndef CORIO_NET_ASYNC_FD_H_
#define CORIO_NET_ASYNC_FD_H_

#include <coroutine>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio {

class AsyncFd {
  struct State;

 public:
  AsyncFd() = default;
  AsyncFd(AsyncFd&&) noexcept = default;
  AsyncFd& operator=(AsyncFd&& other) noexcept;
  ~AsyncFd() { Close(); }

  // Takes ownership of `fd` (made non-blocking here) and registers it with the current loop.
  static absl::StatusOr<AsyncFd> Create(int fd);

  int fd() const { return state_ ? state_->fd : -1; }
  bool valid() const { return state_ != nullptr; }
  void Close();

  // Edge-triggered readiness: clear a direction when a syscall returned EAGAIN.
  void ClearReadable() { state_->ready[0] = false; }
  // For a stream socket (TCP) whose read returned fewer bytes than asked, and more than 0: the
  // receive queue was empty then, so whatever arrives later raises a new edge (epoll and
  // io_uring's multishot poll report each arrival) and the next read may wait for it instead
  // of finding EAGAIN. Readiness is kept (this does nothing) once an event reported
  // - a hangup or an error: the peer's FIN or a reset that came with those bytes raises no
  //   further edge, and the next read must see the EOF or the error;
  // - urgent data (io::kPriority): a TCP read stops short at the urgent mark while bytes
  //   follow it.
  void ClearReadableAfterShortRead() {
    if (!state_->short_read_keeps_readable) state_->ready[0] = false;
  }
  // Whether the fd may have bytes to read: set by every readiness event, cleared above and by
  // ClearReadable. A read attempted while this is false would almost surely find EAGAIN.
  bool readable() const { return state_->ready[0]; }
  void ClearWritable() { state_->ready[1] = false; }

  // Fairness: call after each operation that completed without waiting, with the bytes it
  // moved; returns true when this fd has done enough in a row (64 operations or
  // kBudgetBytes) that the caller should co_await Yield() before its next operation (not
  // after this one: a yield that reports a cancellation must come before bytes are taken). It
  // then also asks the loop to poll I/O next (EventLoop::PollIoSoon), so peers see what this
  // burst produced before more callbacks run.
  static constexpr size_t kBudgetBytes = 64 * 1024;
  bool UseBudget(size_t bytes = 0) {
    state_->inline_bytes += bytes;
    if (++state_->inline_ops % 64 == 0 || state_->inline_bytes >= kBudgetBytes) {
      state_->inline_bytes = 0;
      state_->watcher.loop()->PollIoSoon();
      return true;
    }
    return false;
  }

  class [[nodiscard]] Awaiter : tasks_internal::CancelHandler {
   public:
    Awaiter(State* state, int dir, absl::Time deadline, bool yield)
        : CancelHandler{&OnCancel}, state_(state), dir_(dir), yield_(yield), deadline_(deadline) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() { Leave(); }
    bool await_ready() const noexcept { return false; }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      root_ = tasks_internal::RootOf(h);
      return Suspend(h);
    }
    absl::Status await_resume();

   private:
    friend class AsyncFd;
    static void OnCancel(tasks_internal::CancelHandler* self);
    bool Suspend(std::coroutine_handle<> h);
    // Schedules the resumption with `result` (once).
    void Wake(absl::Status result);
    // The AsyncFd is closing: resume with CANCELLED (or turn a scheduled OK into CANCELLED)
    // and forget the state.
    void Detach();
    void Leave();

    State* state_;   // null once detached
    const int dir_;  // 0: read, 1: write
    const bool yield_;
    bool woken_ = false;
    absl::Time deadline_;
    tasks_internal::PromiseBase* root_ = nullptr;
    EventLoop* loop_ = nullptr;
    std::coroutine_handle<> handle_;
    TimerHandle timer_;
    absl::Status result_;
  };

  Awaiter Readable(absl::Time deadline = absl::InfiniteFuture()) {
    return Awaiter(state_.get(), 0, deadline, false);
  }
  Awaiter Writable(absl::Time deadline = absl::InfiniteFuture()) {
    return Awaiter(state_.get(), 1, deadline, false);
  }
  // A fairness yield by the reader (dir 0) or the writer (dir 1).
  Awaiter Yield(int dir) { return Awaiter(state_.get(), dir, absl::InfiniteFuture(), true); }

  // `co_await AsyncFd::TaskCancelled()`: whether the awaiting task has been cancelled; never
  // suspends. Lets an operation refuse to start (and take bytes) once cancelled.
  struct [[nodiscard]] CancelCheck {
    bool cancelled = false;
    bool await_ready() const noexcept { return false; }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      cancelled = tasks_internal::IsCancelled(tasks_internal::RootOf(h));
      return false;
    }
    bool await_resume() const noexcept { return cancelled; }
  };
  static CancelCheck TaskCancelled() { return {}; }

 private:
  struct State {
    int fd = -1;
    bool ready[2] = {false, false};
    // A hangup, an error or urgent data was reported: see ClearReadableAfterShortRead (sticky).
    bool short_read_keeps_readable = false;
    Awaiter* waiter[2] = {nullptr, nullptr};
    unsigned inline_ops = 0;
    size_t inline_bytes = 0;
    FdWatcher watcher;
  };
  std::unique_ptr<State> state_;  // stable address for the watcher's handler and the waiters
};

}  // namespace corio

#endif  // CORIO_NET_ASYNC_FD_H_
