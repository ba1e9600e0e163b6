// AsyncFd: an fd driven by the current event loop, for coroutines: owns the fd, watches it
// edge-triggered for both directions, and lets one reader and one writer wait for readiness.
// The building block of TcpStream and TcpListener (and of anything fd-based a user writes).
//
//   CORIO_ASSIGN_OR_RETURN(corio::AsyncFd afd, corio::AsyncFd::Create(fd));
//   for (;;) {
//     ssize_t n = read(afd.fd(), buf, len);
//     if (n >= 0 || errno != EAGAIN) break;
//     afd.ClearReadable();                              // edge-triggered: saw EAGAIN
//     CORIO_CO_RETURN_IF_ERROR(co_await afd.Readable());
//   }
//
// Completion contract: Readable()/Writable() resume once, on the loop's thread, on a later turn
// (never inline, unless already ready: then they do not suspend): with OK when the fd is ready
// in that direction or has an error or hangup pending (the next syscall will tell), or with
// CancelledError when the task is cancelled (or already was). At most one waiter per direction.
// Threading: create, use and destroy on the loop's thread.
// Ownership: owns the fd; destroying (or Close()) stops watching and closes it; a suspended
// waiter is resumed with CancelledError.
#ifndef CORIO_NET_ASYNC_FD_H_
#define CORIO_NET_ASYNC_FD_H_

#include <coroutine>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "loop/event_loop.h"
#include "tasks/task.h"

namespace corio {

class AsyncFd {
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
  void ClearWritable() { state_->ready[1] = false; }

  // Fairness: call after each operation that completed without waiting, with the bytes it
  // moved; returns true when this fd has done enough in a row (64 operations or
  // kBudgetBytes) that the caller should co_await Yield(). It then also asks the loop to poll
  // I/O next (EventLoop::PollIoSoon), so peers see what this burst produced before more
  // callbacks run. Yielding by bytes too keeps bulk transfers cache-friendly: a peer on the
  // same loop reads what was just written while it is still in cache, instead of after
  // megabytes have piled up in the socket buffer.
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
    Awaiter(AsyncFd& fd, int dir) : CancelHandler{&OnCancel}, fd_(fd), dir_(dir) {}
    ~Awaiter();
    bool await_ready() const noexcept;
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      root_ = tasks_internal::RootOf(h);
      if (tasks_internal::IsCancelled(root_)) {
        result_ = absl::CancelledError("I/O wait cancelled");
        return false;
      }
      handle_ = h;
      fd_.state_->waiter[dir_] = this;
      fd_.state_->inline_ops = 0;
      fd_.state_->inline_bytes = 0;
      tasks_internal::Arm(root_, this);
      return true;
    }
    absl::Status await_resume() {
      tasks_internal::Disarm(root_, this);
      return result_;
    }

   private:
    friend class AsyncFd;
    static void OnCancel(tasks_internal::CancelHandler* self);
    void Wake(absl::Status result);

    AsyncFd& fd_;
    const int dir_;  // 0: read, 1: write
    tasks_internal::PromiseBase* root_ = nullptr;
    std::coroutine_handle<> handle_;
    absl::Status result_;
  };

  Awaiter Readable() { return Awaiter(*this, 0); }
  Awaiter Writable() { return Awaiter(*this, 1); }

 private:
  struct State {
    int fd = -1;
    bool ready[2] = {false, false};
    Awaiter* waiter[2] = {nullptr, nullptr};
    unsigned inline_ops = 0;
    size_t inline_bytes = 0;
    FdWatcher watcher;
  };
  std::unique_ptr<State> state_;  // stable address for the watcher's handler
};

}  // namespace corio

#endif  // CORIO_NET_ASYNC_FD_H_
