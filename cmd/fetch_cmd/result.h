// FetchResult: what the fetch command learned about one input URL, whatever happened to it.
#ifndef CORIO_CMD_FETCH_RESULT_H_
#define CORIO_CMD_FETCH_RESULT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace corio::fetch_cmd {

struct FetchResult {
  uint64_t index = 0;  // position among the input URLs (0-based)
  std::string url;     // the input as given
  // OK when a whole response arrived; otherwise what went wrong (a response may still have
  // started: then `status` is set too, e.g. a body cut short).
  absl::Status error;
  int status = 0;      // HTTP status; 0 when no response head arrived
  uint64_t bytes = 0;  // decoded body bytes received
  absl::Duration elapsed;
  std::string final_url;  // after redirects; empty when no response
  int redirects = 0;
  int attempts = 0;       // requests sent for this URL (retries included)
  std::string file;       // --output_dir: the file's name inside the directory
  std::string body;       // --output=body only: the decoded body
  std::string server;     // --server: the fetch server that answered

  bool ok() const { return error.ok(); }
};

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_RESULT_H_
