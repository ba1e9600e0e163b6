// BodyFiles: the --output_dir directory, and BodyFile: one URL's body being written into it.
// A body is written to a fresh temporary file (created with O_EXCL, never through an existing
// name) and renamed over its final name only when it is complete, so a failed download leaves
// nothing behind and a symlink or hard link planted under a predictable name is replaced, never
// written through. Final names come from FileNameFor (file_names.h): they cannot leave the
// directory.
//
//   CORIO_ASSIGN_OR_RETURN(auto dir, BodyFiles::Open("pages"));       // created if missing
//   CORIO_ASSIGN_OR_RETURN(BodyFile f, dir->Start(7, "https://example.com/a"));
//   CORIO_RETURN_IF_ERROR(f.Write(chunk));                            // as it streams in
//   CORIO_ASSIGN_OR_RETURN(std::string name, f.Commit());            // "000007_example.com_a"
//
// Threading: a BodyFiles may be used from any thread; a BodyFile from one at a time.
// Ownership: BodyFiles owns the directory fd; a BodyFile destroyed without Commit() removes its
// temporary file.
// Errors: UNAVAILABLE (or the errno's code) naming the directory and file.
#ifndef CORIO_CMD_FETCH_CMD_BODY_FILE_H_
#define CORIO_CMD_FETCH_CMD_BODY_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corio::fetch_cmd {

class BodyFile;

class BodyFiles {
 public:
  static absl::StatusOr<std::unique_ptr<BodyFiles>> Open(const std::string& dir);
  ~BodyFiles();
  BodyFiles(const BodyFiles&) = delete;
  BodyFiles& operator=(const BodyFiles&) = delete;

  absl::StatusOr<BodyFile> Start(uint64_t index, absl::string_view url) const;
  const std::string& dir() const { return dir_; }

 private:
  friend class BodyFile;
  BodyFiles(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  std::string dir_;
  int fd_;
  mutable std::atomic<uint64_t> temp_seq_{0};
};

class BodyFile {
 public:
  BodyFile(BodyFile&& other) noexcept;
  BodyFile& operator=(BodyFile&&) = delete;
  ~BodyFile();

  absl::Status Write(absl::string_view data);
  // Completes the file: renames it to its final name, which it returns.
  absl::StatusOr<std::string> Commit();
  // Removes the temporary file.
  void Abort();

 private:
  friend class BodyFiles;
  BodyFile(const BodyFiles* dir, int fd, std::string temp, std::string name)
      : dir_(dir), fd_(fd), temp_(std::move(temp)), name_(std::move(name)) {}
  absl::Status Error(absl::string_view what, int err) const;

  const BodyFiles* dir_;
  int fd_;
  std::string temp_;
  std::string name_;
};

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_BODY_FILE_H_
