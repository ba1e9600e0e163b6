// UrlInput: the fetch command's list of URLs, read lazily — from the command line, a file, or
// stdin — one URL a line.
//
//   CORIO_ASSIGN_OR_RETURN(auto input, corio::fetch_cmd::UrlInput::OpenFile("urls.txt"));
//   while (std::optional<corio::fetch_cmd::InputItem> item = input->Next()) {
//     Fetch(item->index, item->text);
//   }
//   if (!input->status().ok()) ...   // a read error ended the list early
//
// Lines: blank and whitespace-only lines and lines whose first non-blank character is `#` are
// skipped; a trailing CR (CRLF files) and surrounding blanks are removed. A line longer than
// kMaxLineBytes is returned truncated with `too_long` set (the caller reports it as an invalid
// URL and the rest of the line is skipped): a hostile input cannot make the reader grow without
// bound. Memory stays at one read buffer however long the list is.
//
// Threading: Next() blocks on the input and is meant for one reader thread; Interrupt() may be
// called from any thread and makes a blocked Next() return nullopt (the list then ends with
// status() CANCELLED). Ownership: owns the file descriptor it opened (not stdin).
// Errors: OpenFile fails with NOT_FOUND / PERMISSION_DENIED / ... naming the path; a read error
// ends the list, and status() says what failed.
#ifndef CORIO_CMD_FETCH_INPUT_H_
#define CORIO_CMD_FETCH_INPUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace corio::fetch_cmd {

struct InputItem {
  uint64_t index = 0;  // 0-based, among the URLs (skipped lines do not count)
  std::string text;    // the URL as given (trimmed)
  bool too_long = false;
};

class UrlInput {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  // The URLs given as arguments (no blocking, no file).
  static std::unique_ptr<UrlInput> FromList(std::vector<std::string> urls);
  // `path` "-" reads stdin.
  static absl::StatusOr<std::unique_ptr<UrlInput>> OpenFile(const std::string& path);
  // Reads from `fd`; `owned` closes it on destruction. For tests and stdin.
  static absl::StatusOr<std::unique_ptr<UrlInput>> FromFd(int fd, bool owned,
                                                          std::string name_for_errors);
  ~UrlInput();
  UrlInput(const UrlInput&) = delete;
  UrlInput& operator=(const UrlInput&) = delete;

  // The next URL, or nullopt at the end of the list (or after an error or Interrupt()).
  std::optional<InputItem> Next();
  // True when Next() will return without waiting for input: a URL line is buffered, the list
  // came from the command line, or the input has ended.
  bool NextIsReady() const;
  // Thread-safe: wakes a blocked Next().
  void Interrupt();
  // OK after a complete list; the read error or CANCELLED otherwise.
  absl::Status status() const { return status_; }
  // URLs returned so far.
  uint64_t count() const { return next_index_; }

 private:
  UrlInput() = default;
  // Reads more bytes into buf_; false at EOF, error or interrupt.
  bool Fill();
  // The next raw line (without its LF), or nullopt at the end.
  std::optional<std::string> NextLine(bool* too_long);

  std::vector<std::string> list_;
  size_t list_pos_ = 0;
  bool from_list_ = false;

  int fd_ = -1;
  bool owned_ = false;
  int wake_fd_ = -1;  // eventfd for Interrupt()
  std::string name_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  std::atomic<bool> interrupted_{false};
  absl::Status status_;
  uint64_t next_index_ = 0;
};

// Trims blanks and a trailing CR; returns false for lines to skip (blank, comment).
bool CleanLine(std::string& line);

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_INPUT_H_
