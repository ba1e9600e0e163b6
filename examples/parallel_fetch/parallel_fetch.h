// parallel_fetch: the seed program on every core — what asyncio cannot do. A LoopGroup runs one
// event loop per core; each loop gets its own corio::http::Client and a share of the URLs
// (dealt round robin); one SharedLimits keeps `limit` and `limit_per_host` exact across all the
// loops together. The calling thread runs no loop: it starts each loop's share with SpawnOn and
// blocks until they are done.
//
//   std::vector<absl::StatusOr<std::string>> bodies =
//       corio::examples::FetchParallel(urls, {.threads = 2, .limit = 64, .limit_per_host = 8});
//
// Threading: call it from a thread that runs no event loop. The results are in the order of
// `urls`. Errors: per URL (the client's codes); a LoopGroup that cannot start fails every URL.
#ifndef CORIO_EXAMPLES_PARALLEL_FETCH_PARALLEL_FETCH_H_
#define CORIO_EXAMPLES_PARALLEL_FETCH_PARALLEL_FETCH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace corio::examples {

struct ParallelOptions {
  int threads = 0;  // 0: one loop per core
  int limit = 64;
  int limit_per_host = 0;
};

struct ParallelResult {
  std::vector<absl::StatusOr<std::string>> bodies;  // in the order of the URLs
  std::vector<int> per_loop;                          // URLs each loop fetched
};

ParallelResult FetchParallel(const std::vector<std::string>& urls, ParallelOptions options);

}  // namespace corio::examples

#endif  // CORIO_EXAMPLES_PARALLEL_FETCH_PARALLEL_FETCH_H_
