#include "cmd/fetch_cmd/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace corio::fetch_cmd {
namespace {
constexpr size_t kFlushBytes = 64 * 1024;
}  // namespace

Output::Output(OutputMode mode, bool with_file, int out_fd, int err_fd)
    : mode_(mode),
      with_file_(with_file),
      out_fd_(out_fd),
      err_fd_(err_fd),
      out_is_tty_(isatty(out_fd) == 1) {}

void Output::WriteLocked(const std::string& data, int fd) {
  if (!write_error_.ok()) return;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
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
