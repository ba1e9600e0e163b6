// LoopFetcher: how the fetch command fetches one URL on one loop of its LoopGroup — locally,
// with a corio http::Client (http_fetcher.h), or through corio fetch servers over gRPC
// (`--server`, remote_fetcher.h). The runner (runner.h) owns the loops, the input, the limits
// and the output; a fetcher only turns a URL into a FetchResult.
//
//   absl::StatusOr<std::unique_ptr<LoopFetcher>> f = factory();   // on the loop's thread
//   co_await (*f)->Fetch(result);    // many at once, one per URL in flight on this loop
//   co_await (*f)->Finish();         // after the last Fetch returned
//
// Completion contract: Fetch resumes once, on the loop's thread, with `r` filled in: status,
// final_url, redirects, attempts, bytes and error — and the body (`--output=body`) or the file
// (`--output_dir`) when the options ask for one. Cancelling the calling task makes Fetch return
// soon with r.error CANCELLED, having released what it held.
// Threading: a fetcher belongs to the loop that made it. Ownership: the runner destroys it on
// that loop after Finish().
#ifndef CORIO_CMD_FETCH_CMD_FETCHER_H_
#define CORIO_CMD_FETCH_CMD_FETCHER_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "cmd/fetch_cmd/result.h"
#include "tasks/task.h"

namespace corio::fetch_cmd {

class LoopFetcher {
 public:
  virtual ~LoopFetcher() = default;
  // Fetches r.url (r.index and r.url are set by the caller).
  virtual Task<void> Fetch(FetchResult& r) = 0;
  // No Fetch is running and none will come: finish background work (streams, pumps).
  virtual Task<void> Finish() = 0;
};

// Called once on each loop's thread, before its first URL.
using LoopFetcherFactory = std::function<absl::StatusOr<std::unique_ptr<LoopFetcher>>()>;

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_FETCHER_H_
