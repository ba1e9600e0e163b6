// The epoll backend: one epoll_create1 fd; nanosecond timeouts with epoll_pwait2.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "loop/io_events.h"
#include "loop/poller.h"

namespace corio::loop_internal {
namespace {

uint32_t ToEpoll(uint32_t interest) {
  uint32_t ev = 0;
  if (interest & io::kReadable) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest & io::kWritable) ev |= EPOLLOUT;
  if (interest & io::kEdgeTriggered) ev |= EPOLLET;
  if (interest & io::kPriority) ev |= EPOLLPRI;
  return ev;
}

uint32_t FromEpoll(uint32_t ev) {
  uint32_t out = 0;
  if (ev & (EPOLLIN | EPOLLPRI)) out |= io::kReadable;
  if (ev & EPOLLOUT) out |= io::kWritable;
  if (ev & EPOLLERR) out |= io::kError;
  if (ev & (EPOLLHUP | EPOLLRDHUP)) out |= io::kHangup;
  if (ev & EPOLLPRI) out |= io::kPriority;
  return out;
}

class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(int epfd) : epfd_(epfd) {}
  ~EpollPoller() override { close(epfd_); }

  absl::Status Add(int fd, uint64_t token, uint32_t interest) override {
    return Ctl(EPOLL_CTL_ADD, fd, token, interest, "epoll_ctl(ADD)");
  }
  absl::Status Modify(int fd, uint64_t token, uint32_t interest) override {
    return Ctl(EPOLL_CTL_MOD, fd, token, interest, "epoll_ctl(MOD)");
  }
  absl::Status Remove(int fd, uint64_t token) override {
    if (epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("epoll_ctl(DEL) fd ", fd));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Wait(int64_t timeout_ns, absl::Span<PollEvent> out) override {
    const int max = static_cast<int>(std::min<size_t>(out.size(), events_.size()));
    int n;
    if (timeout_ns <= 0) {
      n = epoll_wait(epfd_, events_.data(), max, timeout_ns < 0 ? -1 : 0);
    } else {
      timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                  static_cast<long>(timeout_ns % 1'000'000'000)};
      n = static_cast<int>(syscall(SYS_epoll_pwait2, epfd_, events_.data(), max, &ts, nullptr, 0));
      if (n < 0 && errno == ENOSYS) {
        // Kernels before 5.11: millisecond resolution, rounded up so timers never fire early.
        n = epoll_wait(epfd_, events_.data(), max,
                       static_cast<int>(std::min<int64_t>((timeout_ns + 999'999) / 1'000'000,
                                                          1'000'000'000)));
      }
    }
    if (n < 0) {
      if (errno == EINTR) return 0;
      return absl::ErrnoToStatus(errno, "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      out[i] = PollEvent{events_[i].data.u64, FromEpoll(events_[i].events)};
    }
    return n;
  }

  const char* name() const override { return "epoll"; }

 private:
  absl::Status Ctl(int op, int fd, uint64_t token, uint32_t interest, const char* what) {
    epoll_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.events = ToEpoll(interest);
    ev.data.u64 = token;
    if (epoll_ctl(epfd_, op, fd, &ev) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat(what, " fd ", fd));
    }
    return absl::OkStatus();
  }

  const int epfd_;
  std::array<epoll_event, 256> events_;
};

}  // namespace

std::unique_ptr<Poller> NewEpollPoller(absl::Status* error) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    *error = absl::ErrnoToStatus(errno, "epoll_create1");
    return nullptr;
  }
  return std::make_unique<EpollPoller>(epfd);
}

}  // namespace corio::loop_internal
