// The io_uring backend, readiness-based so it serves the same Poller contract as epoll:
// IORING_OP_POLL_ADD, multishot for edge-triggered interest, one-shot re-armed after each
// completion for level-triggered interest (the re-arm is submitted with the next Wait(), after
// the loop has dispatched the event, so a still-ready fd completes again at once).
//
// Each completion's user_data is (fd << 32 | epoch). Modify and Remove bump the fd's epoch, so
// completions of a cancelled or replaced poll are recognised as stale and dropped; that is how
// "Remove means never reported again" holds although cancellation is asynchronous.
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "loop/io_events.h"
#include "loop/poller.h"

namespace corio::loop_internal {
namespace {

constexpr uint64_t kIgnoredUserData = ~0ull;  // also liburing's internal timeout marker
constexpr unsigned kRingEntries = 1024;

unsigned ToPoll(uint32_t interest) {
  unsigned ev = 0;
  if (interest & io::kReadable) ev |= POLLIN | POLLRDHUP;
  if (interest & io::kWritable) ev |= POLLOUT;
  if (interest & io::kPriority) ev |= POLLPRI;
  return ev;
}

uint32_t FromPoll(unsigned ev) {
  uint32_t out = 0;
  if (ev & (POLLIN | POLLPRI)) out |= io::kReadable;
  if (ev & POLLOUT) out |= io::kWritable;
  if (ev & (POLLERR | POLLNVAL)) out |= io::kError;
  if (ev & (POLLHUP | POLLRDHUP)) out |= io::kHangup;
  if (ev & POLLPRI) out |= io::kPriority;
  return out;
}

class UringPoller final : public Poller {
 public:
  UringPoller() = default;
  ~UringPoller() override { io_uring_queue_exit(&ring_); }

  absl::Status Init() {
    io_uring_params params;
    std::memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_COOP_TASKRUN;
    int rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    if (rc == -EINVAL) {  // kernels before 5.19 lack COOP_TASKRUN
      std::memset(&params, 0, sizeof params);
      rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    }
    if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_queue_init");
    if (!(params.features & IORING_FEAT_NODROP) || !(params.features & IORING_FEAT_EXT_ARG)) {
      io_uring_queue_exit(&ring_);
      return absl::UnimplementedError(
          "io_uring: kernel lacks FEAT_NODROP/FEAT_EXT_ARG (need 5.11+)");
    }
    return absl::OkStatus();
  }

  absl::Status Add(int fd, uint64_t token, uint32_t interest) override {
    if (fd < 0) return absl::ErrnoToStatus(EBADF, absl::StrCat("io_uring poll add fd ", fd));
    if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(fd + 1);
    Entry& e = fds_[fd];
    // The file's identity tells a second registration of the same open file (EEXIST, as epoll
    // says) from a new file behind a number whose old file was closed while registered (then
    // the old registration is replaced). fstat failing (a bad fd) leaves the identity unknown:
    // Wait() reports the error.
    struct stat st;
    const bool known = fstat(fd, &st) == 0;
    if (e.active) {
      if (known && e.known && st.st_dev == e.dev && st.st_ino == e.ino) {
        return absl::ErrnoToStatus(EEXIST, absl::StrCat("io_uring poll add fd ", fd));
      }
      CancelPoll(fd, e);
    }
    e.known = known;
    e.dev = known ? st.st_dev : 0;
    e.ino = known ? st.st_ino : 0;
    e.active = true;
    e.token = token;
    e.interest = interest;
    ++e.epoch;
    Arm(fd, e);
    return absl::OkStatus();
  }

  absl::Status Modify(int fd, uint64_t token, uint32_t interest) override {
    Entry* e = Find(fd);
    if (e == nullptr)
      return absl::ErrnoToStatus(ENOENT, absl::StrCat("io_uring poll modify fd ", fd));
    CancelPoll(fd, *e);
    e->token = token;
    e->interest = interest;
    Arm(fd, *e);
    return absl::OkStatus();
  }

  absl::Status Remove(int fd, uint64_t token) override {
    Entry* e = Find(fd);
    if (e == nullptr)
      return absl::ErrnoToStatus(ENOENT, absl::StrCat("io_uring poll remove fd ", fd));
    CancelPoll(fd, *e);
    e->active = false;
    return absl::OkStatus();
  }

  absl::StatusOr<int> Wait(int64_t timeout_ns, absl::Span<PollEvent> out) override {
    io_uring_cqe* cqe = nullptr;
    int rc;
    if (timeout_ns == 0) {
      rc = io_uring_submit(&ring_);
    } else if (timeout_ns < 0) {
      rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
    } else {
      __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
      rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
      return absl::ErrnoToStatus(-rc, "io_uring_enter");
    }
    int n = 0;
    unsigned seen = 0;
    unsigned head;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      if (static_cast<size_t>(n) == out.size()) break;
      ++seen;
      const uint64_t ud = cqe->user_data;
      if (ud == kIgnoredUserData) continue;
      const int fd = static_cast<int>(ud >> 32);
      const uint32_t epoch = static_cast<uint32_t>(ud);
      Entry* e = Find(fd);
      if (e == nullptr || e->epoch != epoch) continue;  // a cancelled or replaced poll
      const bool multishot = (e->interest & io::kEdgeTriggered) != 0;
      if (cqe->res == -ECANCELED) continue;
      uint32_t events = cqe->res < 0 ? (io::kError | io::kHangup) : FromPoll(cqe->res);
      if (cqe->res >= 0 && (!multishot || !(cqe->flags & IORING_CQE_F_MORE))) {
        Arm(fd, *e);  // level: re-arm; multishot ended (e.g. CQ overflow): restart it
      }
      out[n++] = PollEvent{e->token, events};
    }
    io_uring_cq_advance(&ring_, seen);
    return n;
  }

  const char* name() const override { return "io_uring"; }

 private:
  struct Entry {
    uint64_t token = 0;
    uint32_t interest = 0;
    uint32_t epoch = 0;
    bool active = false;
    bool known = false;  // dev/ino hold the registered file's identity
    dev_t dev = 0;
    ino_t ino = 0;
  };

  Entry* Find(int fd) {
    if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[fd].active) return nullptr;
    return &fds_[fd];
  }

  io_uring_sqe* GetSqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {  // submission queue full: flush it
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  static uint64_t UserData(int fd, uint32_t epoch) {
    return (static_cast<uint64_t>(fd) << 32) | epoch;
  }

  void Arm(int fd, const Entry& e) {
    io_uring_sqe* sqe = GetSqe();
    if (e.interest & io::kEdgeTriggered) {
      io_uring_prep_poll_multishot(sqe, fd, ToPoll(e.interest));
    } else {
      io_uring_prep_poll_add(sqe, fd, ToPoll(e.interest));
    }
    io_uring_sqe_set_data64(sqe, UserData(fd, e.epoch));
  }

  void CancelPoll(int fd, Entry& e) {
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_poll_remove(sqe, UserData(fd, e.epoch));
    io_uring_sqe_set_data64(sqe, kIgnoredUserData);
    ++e.epoch;
  }

  io_uring ring_;
  std::vector<Entry> fds_;  // by fd
};

}  // namespace

std::unique_ptr<Poller> NewUringPoller(absl::Status* error) {
  auto poller = std::make_unique<UringPoller>();
  absl::Status s = poller->Init();
  if (!s.ok()) {
    *error = std::move(s);
    return nullptr;
  }
  return poller;
}

}  // namespace corio::loop_internal
