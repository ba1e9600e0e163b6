// The fetch command's progress bar (stderr, terminals only): done/total (total once the whole
// input has been read), rate, failures, bytes and ETA, redrawn in place.
//
//   std::string line = ProgressLine({.done = 1234, .failed = 3, .bytes = 1 << 20,
//                                    .total = 20000, .elapsed = absl::Seconds(2)}, 80);
//   // "[##....] 1234/20000   6%  617/s  3 failed  1.0 MiB  ETA 30s"
//
// Threading: pure.
#ifndef CORIO_CMD_FETCH_PROGRESS_H_
#define CORIO_CMD_FETCH_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace corio::fetch_cmd {

struct ProgressSnapshot {
  uint64_t done = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;
  std::optional<uint64_t> total;  // unknown until the input is read to the end
  absl::Duration elapsed;
};

// One line of at most `width` columns (no CR, no escape codes).
std::string ProgressLine(const ProgressSnapshot& s, int width);

// Whether to show a progress bar: stderr is a terminal and the list is long (or not known yet).
bool ShouldShowProgress(bool stderr_is_tty, std::optional<uint64_t> known_total);

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_PROGRESS_H_
