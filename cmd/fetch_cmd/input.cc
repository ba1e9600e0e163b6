#include "cmd/fetch_cmd/input.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace corio::fetch_cmd {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EISDIR:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnavailableError(message);
  }
}

// A line that holds a URL (not blank, not a comment), trimmed; empty for lines to skip.
absl::string_view UrlOfLine(absl::string_view line) {
  absl::string_view v = absl::StripAsciiWhitespace(line);
  return !v.empty() && v.front() == '#' ? absl::string_view() : v;
}

}  // namespace

bool CleanLine(std::string& line) {
  absl::string_view v = UrlOfLine(line);
  if (v.empty()) return false;
  if (v.size() != line.size()) line = std::string(v);
  return true;
}

std::unique_ptr<UrlInput> UrlInput::FromList(std::vector<std::string> urls) {
  std::unique_ptr<UrlInput> in(new UrlInput());
  in->from_list_ = true;
  in->list_ = std::move(urls);
  return in;
}

absl::StatusOr<std::unique_ptr<UrlInput>> UrlInput::OpenFile(const std::string& path) {
  if (path == "-") return FromFd(STDIN_FILENO, /*owned=*/false, "stdin");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("input file \"", path, "\""));
  return FromFd(fd, /*owned=*/true, absl::StrCat("input file \"", path, "\""));
}

absl::StatusOr<std::unique_ptr<UrlInput>> UrlInput::FromFd(int fd, bool owned,
                                                           std::string name_for_errors) {
  std::unique_ptr<UrlInput> in(new UrlInput());
  in->fd_ = fd;
  in->owned_ = owned;
  in->name_ = std::move(name_for_errors);
  in->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (in->wake_fd_ < 0) return ErrnoStatus(errno, "eventfd");
  // A directory opens fine and fails on the first read: say so now, as a usage error would.
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) return ErrnoStatus(EISDIR, in->name_);
  return in;
}

UrlInput::~UrlInput() {
  if (owned_ && fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void UrlInput::Interrupt() {
  interrupted_.store(true, std::memory_order_release);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t unused = write(wake_fd_, &one, sizeof(one));
    (void)unused;
  }
}

bool UrlInput::Fill() {
  if (eof_ || !status_.ok()) return false;
  for (;;) {
    if (interrupted_.load(std::memory_order_acquire)) {
      status_ = absl::CancelledError(absl::StrCat("reading ", name_, " interrupted"));
      return false;
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      status_ = ErrnoStatus(errno, absl::StrCat("poll ", name_));
      return false;
    }
    if (fds[1].revents != 0) continue;  // Interrupt(): checked at the top
    // Compact before growing: the buffer holds at most one partial line plus a chunk.
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    const size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    ssize_t n = read(fd_, buf_.data() + old, kReadChunk);
    if (n < 0) {
      buf_.resize(old);
      if (errno == EINTR || errno == EAGAIN) continue;
      status_ = ErrnoStatus(errno, absl::StrCat("read ", name_));
      return false;
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    return true;
  }
}

bool UrlInput::NextIsReady() const {
  if (from_list_ || eof_ || !status_.ok()) return true;
  // A buffered line that is a URL (blank lines and comments before it are skipped by Next()).
  for (size_t at = pos_;;) {
    const size_t nl = buf_.find('\n', at);
    if (nl == std::string::npos) return false;
    if (!UrlOfLine(absl::string_view(buf_).substr(at, nl - at)).empty()) return true;
    at = nl + 1;
  }
}

std::optional<std::string> UrlInput::NextLine(bool* too_long) {
  *too_long = false;
  bool skipping = false;  // discarding the rest of an over-long line
  std::string kept;       // the first kMaxLineBytes of an over-long line
  for (;;) {
    const size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      if (skipping) {
        pos_ = nl + 1;
        *too_long = true;
        return kept;
      }
      if (nl - pos_ > kMaxLineBytes) {
        kept.assign(buf_, pos_, kMaxLineBytes);
        pos_ = nl + 1;
        *too_long = true;
        return kept;
      }
      std::string line(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      return line;
    }
    if (!skipping && buf_.size() - pos_ > kMaxLineBytes) {
      kept.assign(buf_, pos_, kMaxLineBytes);
      skipping = true;
    }
    if (skipping) pos_ = buf_.size();
    if (!Fill()) {
      if (skipping) {
        *too_long = true;
        return kept;
      }
      if (pos_ < buf_.size() && status_.ok()) {  // a last line without LF
        std::string line(buf_, pos_, buf_.size() - pos_);
        pos_ = buf_.size();
        return line;
      }
      return std::nullopt;
    }
  }
}

std::optional<InputItem> UrlInput::Next() {
  if (from_list_) {
    while (list_pos_ < list_.size()) {
      std::string line = std::move(list_[list_pos_++]);
      if (!CleanLine(line)) continue;
      return InputItem{next_index_++, std::move(line), false};
    }
    return std::nullopt;
  }
  for (;;) {
    bool too_long = false;
    std::optional<std::string> line = NextLine(&too_long);
    if (!line) return std::nullopt;
    if (!CleanLine(*line)) continue;
    return InputItem{next_index_++, std::move(*line), too_long};
  }
}

}  // namespace corio::fetch_cmd
