// Runner: the fetch command's engine. Fetches every URL of an input with a corio HTTP Client
// per loop of a LoopGroup — on every core — bounded by --concurrency in total (and
// --limit_per_host across all loops), and hands each result to an Output as it completes.
//
//   Runner runner(options, std::move(input), output, env);
//   int exit_status = runner.Run();   // 0, 1, or 130/143 when interrupted
//
// How the work flows: a reader thread takes URLs from the input lazily and hands each to the
// least busy loop, holding one of `concurrency` permits per URL until its result has been
// written, so the input is read only as fast as the work drains (flat memory for any list
// length, and results appear before the input has been read to the end). Each loop runs one
// task that spawns a fetch per URL into a TaskGroup. The calling thread is the controller: it
// draws the progress bar, flushes output, and turns SIGINT/SIGTERM into a clean stop —
// in-flight fetches are cancelled and awaited, finished results are written, and the exit
// status is 130 (SIGINT) or 143 (SIGTERM).
// Threading: Run() blocks the calling thread, which must not run an event loop. It blocks
// SIGINT and SIGTERM in the process while it runs (threads it starts inherit that) and reads
// them from a signalfd; it restores the signal mask before it returns.
// Errors: each URL's error is its result (see FetchResult); Run() itself reports a failed
// start (no loops, an unwritable --output_dir) on `err_fd` and returns 1.
#ifndef CORIO_CMD_FETCH_CMD_RUNNER_H_
#define CORIO_CMD_FETCH_CMD_RUNNER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "cmd/fetch_cmd/fetcher.h"
#include "cmd/fetch_cmd/input.h"
#include "cmd/fetch_cmd/options.h"
#include "cmd/fetch_cmd/output.h"
#include "net/http/client.h"

namespace corio::fetch_cmd {
namespace runner_internal {
struct State;
}

struct RunnerEnv {
  int err_fd = 2;
  // Draw a progress bar, through Output on its stderr fd (the caller decides: a terminal and a
  // long list).
  bool progress = false;
  // Applied to every loop's ClientOptions after the flags (the demo trusts its own CA).
  std::function<void(http::ClientOptions&)> customize_client;
  // How each loop fetches (made on the loop's thread); empty: locally, with an http::Client
  // per loop configured from the options (and customize_client).
  LoopFetcherFactory fetcher_factory;
  // Number of URLs when known before the run (arguments, demo), for the progress bar.
  std::optional<uint64_t> known_total;
};

class Runner {
 public:
  Runner(FetchOptions options, std::unique_ptr<UrlInput> input, Output& output, RunnerEnv env);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Fetches everything; returns the exit status.
  int Run();

 private:
  std::unique_ptr<runner_internal::State> shared_;
};

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_RUNNER_H_
