#include "cmd/fetch_cmd/body_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cmd/fetch_cmd/file_names.h"

namespace corio::fetch_cmd {
namespace {

absl::Status ErrnoStatus(int err, std::string message) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(std::move(message));
    default:
      return absl::UnavailableError(std::move(message));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<BodyFiles>> BodyFiles::Open(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int err = errno;
    return ErrnoStatus(err, absl::StrCat("--output_dir=", dir, ": ", std::strerror(err)));
  }
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return ErrnoStatus(err, absl::StrCat("--output_dir=", dir, ": ", std::strerror(err)));
  }
  return std::unique_ptr<BodyFiles>(new BodyFiles(dir, fd));
}

BodyFiles::~BodyFiles() { close(fd_); }

absl::StatusOr<BodyFile> BodyFiles::Start(uint64_t index, absl::string_view url) const {
  std::string name = FileNameFor(index, url);
  for (int attempt = 0;; ++attempt) {
    // A dot-name nobody else's URL can produce (final names never start with '.').
    std::string temp = absl::StrCat(".fetch-", getpid(), "-", temp_seq_.fetch_add(1), ".part");
    const int fd = openat(fd_, temp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return BodyFile(this, fd, std::move(temp), std::move(name));
    const int err = errno;
    if (err != EEXIST || attempt >= 8) {
      return ErrnoStatus(err, absl::StrCat("write ", dir_, "/", name, ": ", std::strerror(err)));
    }
  }
}

BodyFile::BodyFile(BodyFile&& o) noexcept
    : dir_(o.dir_),
      fd_(std::exchange(o.fd_, -1)),
      temp_(std::move(o.temp_)),
      name_(std::move(o.name_)) {}

BodyFile::~BodyFile() { Abort(); }

absl::Status BodyFile::Error(absl::string_view what, int err) const {
  return ErrnoStatus(err, absl::StrCat(what, " ", dir_->dir(), "/", name_, ": ", std::strerror(err)));
}

absl::Status BodyFile::Write(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error("write", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BodyFile::Commit() {
  if (close(std::exchange(fd_, -1)) != 0) {
    const int err = errno;
    Abort();
    return Error("write", err);
  }
  if (renameat(dir_->fd_, temp_.c_str(), dir_->fd_, name_.c_str()) != 0) {
    const int err = errno;
    Abort();
    return Error("rename to", err);
  }
  temp_.clear();
  return name_;
}

void BodyFile::Abort() {
  if (fd_ >= 0) close(std::exchange(fd_, -1));
  if (!temp_.empty() && dir_ != nullptr) unlinkat(dir_->fd_, temp_.c_str(), 0);
  temp_.clear();
}

}  // namespace corio::fetch_cmd
