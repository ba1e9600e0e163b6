// Output: where the fetch command's results go — stdout in the chosen format, the running
// totals, and what the progress bar shows. Results arrive from every loop's thread.
//
//   Output out(OutputMode::kJsonl, /*with_file=*/false, STDOUT_FILENO);
//   out.Emit(std::move(result));      // any thread
//   out.Flush();                      // the controller, now and then and at the end
//   out.totals();                     // for the total line and the exit status
//
// Modes: kSummary and kJsonl write one line per result as it completes. kBody writes the
// bodies in input order: a result that finishes ahead of an earlier one waits (its body held)
// until the earlier ones are written — the runner bounds how far ahead work may start
// (written_upto() + window), so memory stays bounded. A failed item's error goes to stderr in
// that order. Lines are buffered and written in large writes; on a terminal each line is
// written at once.
// Threading: every method is thread-safe. Ownership: does not own the fds.
// Errors: a write error (EPIPE: the reader went away) is sticky: write_error() says what
// failed; later output is dropped.
// Interrupt (SIGINT/SIGTERM): a write to a pipe, terminal or socket waits for the fd to take
// more bytes, so a reader that stops reading holds the run up — but never an interrupted one:
// after Interrupt(), a write that cannot go on within kInterruptGrace gives up (a sticky write
// error), so the run can stop even when nobody reads stdout.
#ifndef CORIO_CMD_FETCH_CMD_OUTPUT_H_
#define CORIO_CMD_FETCH_CMD_OUTPUT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cmd/fetch_cmd/format.h"
#include "cmd/fetch_cmd/options.h"
#include "cmd/fetch_cmd/progress.h"
#include "cmd/fetch_cmd/result.h"

namespace corio::fetch_cmd {

class Output {
 public:
  // How long writes may still wait for a slow reader after Interrupt().
  static constexpr absl::Duration kInterruptGrace = absl::Seconds(1);

  Output(OutputMode mode, bool with_file, int out_fd, int err_fd);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void Emit(FetchResult r);
  // Writes what is buffered.
  void Flush();
  // kBody, after an interrupt: writes the results still waiting for an earlier one that will
  // never come (it was cancelled), in input order.
  void FlushWaiting();
  // The run's total line: on stdout after the summary lines, on stderr in the other modes
  // (stdout holds only JSON lines or bodies there).
  void WriteTotal(const std::string& line);
  // The progress bar (terminals only): draws `line` on the stderr fd in place ("\r", the line,
  // erase to the end). Output erases it before it writes anything else to a terminal — a summary
  // line on a stdout that is a terminal too, an error on stderr — so lines never run into the
  // bar; the next DrawProgress draws it again. ClearProgress erases it for good.
  void DrawProgress(const std::string& line);
  void ClearProgress();
  // The run is being interrupted: writes that block give up after kInterruptGrace. Any
  // thread, never blocks (not even on a write in progress); idempotent.
  void Interrupt();
  // Index of the first result not yet written (kBody); results written so far otherwise.
  uint64_t written_upto() const;
  Totals totals() const;
  absl::Status write_error() const;

 private:
  void WriteLocked(const std::string& data, int fd) /* requires mu_ */;
  void WriteRawLocked(const std::string& data, int fd) /* requires mu_ */;
  void ClearProgressLocked() /* requires mu_ */;
  // Waits until `fd` takes bytes; false when interrupted and the grace ran out.
  bool WaitWritableLocked(int fd) /* requires mu_ */;
  void FlushLocked() /* requires mu_ */;
  void EmitBodyLocked(FetchResult r) /* requires mu_ */;

  const OutputMode mode_;
  const bool with_file_;
  const int out_fd_;
  const int err_fd_;
  const bool out_is_tty_;
  const bool out_regular_;  // a regular file: writes never wait
  const bool err_regular_;
  int wake_fd_ = -1;  // eventfd: readable once Interrupt() was called
  std::atomic<bool> interrupted_{false};
  // std::mutex, not absl::Mutex: the system's Abseil is not built with TSan, which then
  // cannot see absl::Mutex's synchronization.
  mutable std::mutex mu_;
  std::string buf_  /* guarded by mu_ */;
  Totals totals_  /* guarded by mu_ */;
  uint64_t next_to_write_  /* guarded by mu_ */ = 0;
  std::map<uint64_t, FetchResult> waiting_  /* guarded by mu_ */;  // kBody: ahead of their turn
  absl::Status write_error_  /* guarded by mu_ */;
  std::optional<absl::Time> give_up_at_  /* guarded by mu_ */;  // after Interrupt()
  bool progress_shown_ /* guarded by mu_ */ = false;
};

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_OUTPUT_H_
