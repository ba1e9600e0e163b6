#include "cmd/fetch_cmd/output.h"

#include <limits.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace corio::fetch_cmd {
namespace {
constexpr size_t kFlushBytes = 64 * 1024;

bool IsRegularFile(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

Output::Output(OutputMode mode, bool with_file, int out_fd, int err_fd)
    : mode_(mode),
      with_file_(with_file),
      out_fd_(out_fd),
      err_fd_(err_fd),
      out_is_tty_(isatty(out_fd) == 1),
      out_regular_(IsRegularFile(out_fd)),
      err_regular_(IsRegularFile(err_fd)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Output::~Output() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Output::Interrupt() {
  if (interrupted_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t unused = write(wake_fd_, &one, sizeof(one));
    (void)unused;
  }
}

bool Output::WaitWritableLocked(int fd) {
  for (;;) {
    int timeout_ms = -1;
    const bool interrupted = interrupted_.load(std::memory_order_acquire);
    if (interrupted) {
      if (!give_up_at_) give_up_at_ = absl::Now() + kInterruptGrace;
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(*give_up_at_ - absl::Now())));
    }
    // Once interrupted the eventfd stays readable: then wait on `fd` alone, with the grace.
    pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
    const int nfds = interrupted || wake_fd_ < 0 ? 1 : 2;
    const int r = poll(fds, nfds, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return true;  // let write() report what is wrong
    }
    if (fds[0].revents != 0) return true;  // writable, or an error write() will name
    if (r == 0 && interrupted) return false;
  }
}

void Output::DrawProgress(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteRawLocked(absl::StrCat("\r", line, "\x1b[K"), err_fd_);
  progress_shown_ = true;
}

void Output::ClearProgress() {
  std::lock_guard<std::mutex> lock(mu_);
  ClearProgressLocked();
}

void Output::ClearProgressLocked() {
  if (!progress_shown_) return;
  progress_shown_ = false;
  WriteRawLocked("\r\x1b[K", err_fd_);
}

void Output::WriteLocked(const std::string& data, int fd) {
  // The bar is on a terminal: erase it before a line goes to that terminal (stderr) or to a
  // stdout that is a terminal too, or the line would start where the bar ends.
  if (progress_shown_ && (fd == err_fd_ || out_is_tty_)) ClearProgressLocked();
  WriteRawLocked(data, fd);
}

void Output::WriteRawLocked(const std::string& data, int fd) {
  if (!write_error_.ok()) return;
  // Pipes, terminals and sockets: wait for room (interruptibly), then write at most PIPE_BUF,
  // which a writable pipe takes without blocking. Regular files never block.
  const bool regular = fd == out_fd_ ? out_regular_ : err_regular_;
  size_t off = 0;
  while (off < data.size()) {
    if (!regular && !WaitWritableLocked(fd)) {
      write_error_ = absl::UnavailableError(absl::StrCat(
          "write ", fd == out_fd_ ? "stdout" : "stderr",
          ": interrupted while the reader was not reading; the rest of the output was dropped"));
      return;
    }
    const size_t chunk =
        regular ? data.size() - off : std::min<size_t>(data.size() - off, PIPE_BUF);
    ssize_t n = write(fd, data.data() + off, chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      write_error_ = absl::UnavailableError(
          absl::StrCat("write ", fd == out_fd_ ? "stdout" : "stderr", ": ", std::strerror(errno)));
      return;
    }
    off += static_cast<size_t>(n);
  }
}

void Output::FlushLocked() {
  if (buf_.empty()) return;
  WriteLocked(buf_, out_fd_);
  buf_.clear();
}

void Output::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  FlushLocked();
}

void Output::FlushWaiting() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!waiting_.empty()) {
    next_to_write_ = waiting_.begin()->first;
    FetchResult r = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    EmitBodyLocked(std::move(r));
  }
  FlushLocked();
}

void Output::EmitBodyLocked(FetchResult r) {
  if (r.index != next_to_write_) {
    const uint64_t index = r.index;
    waiting_.emplace(index, std::move(r));
    return;
  }
  for (;;) {
    if (r.ok()) {
      buf_.append(r.body);
      // As print() would: each body ends with a newline.
      if (!r.body.empty() && r.body.back() != '\n') buf_.push_back('\n');
      if (buf_.size() >= kFlushBytes || out_is_tty_) FlushLocked();
    } else {
      FlushLocked();  // keep stdout and stderr in input order
      WriteLocked(absl::StrCat("fetch: ", r.url, ": ", absl::StatusCodeToString(r.error.code()),
                               ": ", r.error.message(), "\n"),
                  err_fd_);
    }
    ++next_to_write_;
    auto it = waiting_.find(next_to_write_);
    if (it == waiting_.end()) return;
    r = std::move(it->second);
    waiting_.erase(it);
  }
}

void Output::Emit(FetchResult r) {
  std::lock_guard<std::mutex> lock(mu_);
  totals_.Add(r);
  switch (mode_) {
    case OutputMode::kSummary:
      buf_.append(SummaryLine(r));
      break;
    case OutputMode::kJsonl:
      buf_.append(JsonLine(r, with_file_));
      break;
    case OutputMode::kBody:
      EmitBodyLocked(std::move(r));
      return;
  }
  ++next_to_write_;
  if (buf_.size() >= kFlushBytes || out_is_tty_) FlushLocked();
}

void Output::WriteTotal(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  FlushLocked();
  WriteLocked(line, mode_ == OutputMode::kSummary ? out_fd_ : err_fd_);
}

uint64_t Output::written_upto() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_to_write_;
}

Totals Output::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

absl::Status Output::write_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return write_error_;
}

}  // namespace corio::fetch_cmd
