// Test helpers for the end-to-end tests of corio's binaries: run a program with arguments and
// optional stdin, talk to it while it runs, collect its output, exit status and peak RSS; and a
// tiny JSON reader for one flat JSON object per line (what `fetch --output=jsonl` prints).
//
//   Subprocess p = Subprocess::Start({FetchPath(), "--output=jsonl", url}).value();
//   p.CloseStdin();
//   Subprocess::Result r = p.Wait();
//   EXPECT_EQ(r.exit_code, 0);
//   std::vector<JsonObject> lines = ParseJsonLines(r.out);
//
// Threading: one thread per Subprocess. testonly.
#ifndef CORIO_CMD_FETCH_SUBPROCESS_H_
#define CORIO_CMD_FETCH_SUBPROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace corio::fetch_cmd::testing {

class Subprocess {
 public:
  struct Result {
    int exit_code = -1;   // -1 when killed by a signal
    int term_signal = 0;  // the signal that killed it, if any
    std::string out;
    std::string err;
    int64_t max_rss_kib = 0;
  };

  struct Options {
    std::vector<std::string> extra_env;  // "NAME=value", added to this process's environment
    bool stderr_is_terminal = false;     // stderr on a pseudo-terminal (isatty() is true)
    int terminal_columns = 100;
  };
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv);
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const Options& options);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

  // Writes to the child's stdin (blocking).
  bool WriteStdin(const std::string& data);
  void CloseStdin();
  // Writes `data` to stdin from a helper thread, then closes stdin (so a child that writes a
  // lot while it reads cannot deadlock against us). Joined by Wait().
  void FeedStdinAndClose(std::string data);
  // Reads stdout until `pred(stdout so far)` holds or the child closes stdout or `timeout`
  // passes; returns whether it held. Output read here is kept for Wait()'s result.
  bool ReadStdoutUntil(bool (*pred)(const std::string&, const void*), const void* arg,
                       absl::Duration timeout);
  // Until stdout holds `n` newlines.
  bool WaitForLines(int n, absl::Duration timeout);
  void Signal(int sig);
  // Closes stdin if still open, drains stdout and stderr, reaps the child.
  Result Wait();
  pid_t pid() const { return pid_; }
  // The read end of the child's stdout (for tests that look at the pipe without reading it);
  // -1 once closed.
  int stdout_fd() const { return out_; }

 private:
  Subprocess() = default;
  // Reads whatever is available on stdout/stderr, waiting up to `timeout`; false when both
  // are closed.
  bool Pump(absl::Duration timeout);

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
  std::thread feeder_;
};

// A JSON value of a flat object: null, a number, a string, true/false.
struct JsonValue {
  enum Kind { kNull, kNumber, kString, kBool } kind = kNull;
  double number = 0;
  std::string str;
  bool boolean = false;
  bool is_null() const { return kind == kNull; }
};
using JsonObject = std::map<std::string, JsonValue>;

// Parses one flat JSON object (no nesting); nullopt if it is not one.
std::optional<JsonObject> ParseJsonObject(const std::string& line);
// Every non-empty line; lines that do not parse are returned as empty objects with key "!".
std::vector<JsonObject> ParseJsonLines(const std::string& text);

}  // namespace corio::fetch_cmd::testing

#endif  // CORIO_CMD_FETCH_SUBPROCESS_H_
