#include "examples/parallel_fetch/parallel_fetch.h"

#include <memory>
#include <utility>

#include "base/status_macros.h"
#include "loop/loop_group.h"
#include "net/http/client.h"
#include "net/http/shared_limits.h"
#include "tasks/gather.h"
#include "tasks/spawn_on.h"
#include "tasks/task.h"

namespace corio::examples {
namespace {

Task<absl::StatusOr<std::string>> FetchOne(http::Client& client, std::string url) {
  CORIO_CO_ASSIGN_OR_RETURN(http::Response r, co_await client.Get(std::move(url)));
  co_return co_await r.Text();
}

// One loop's share: its own Client (made and destroyed on this loop), the shared limits, a
// Gather over its URLs. Writes each body to its slot of `out` (slots are disjoint per loop).
Task<absl::Status> FetchShare(std::vector<size_t> indexes, const std::vector<std::string>* urls,
                              std::shared_ptr<http::SharedLimits> limits,
                              std::vector<absl::StatusOr<std::string>>* out) {
  http::ClientOptions options;
  options.shared_limits = std::move(limits);
  http::Client client(std::move(options));
  std::vector<Task<absl::StatusOr<std::string>>> tasks;
  tasks.reserve(indexes.size());
  for (size_t i : indexes) tasks.push_back(FetchOne(client, (*urls)[i]));
  std::vector<absl::StatusOr<std::string>> bodies = co_await GatherSettled(std::move(tasks));
  for (size_t k = 0; k < indexes.size(); ++k) (*out)[indexes[k]] = std::move(bodies[k]);
  co_return absl::OkStatus();
}

}  // namespace

ParallelResult FetchParallel(const std::vector<std::string>& urls, ParallelOptions options) {
  ParallelResult result;
  result.bodies.assign(urls.size(), absl::UnknownError("not fetched"));
  LoopGroup::Options group_options;
  group_options.threads = options.threads;
  absl::StatusOr<std::unique_ptr<LoopGroup>> group = LoopGroup::Create(group_options);
  if (!group.ok()) {
    result.bodies.assign(urls.size(), group.status());
    return result;
  }
  const size_t loops = (*group)->size();
  std::vector<std::vector<size_t>> shares(loops);
  for (size_t i = 0; i < urls.size(); ++i) shares[i % loops].push_back(i);
  auto limits = http::SharedLimits::Create(options.limit, options.limit_per_host);
  std::vector<RemoteHandle<absl::Status>> handles;
  for (size_t l = 0; l < loops; ++l) {
    result.per_loop.push_back(static_cast<int>(shares[l].size()));
    handles.push_back(SpawnOn((*group)->loop(l),
                              FetchShare(std::move(shares[l]), &urls, limits, &result.bodies)));
  }
  for (RemoteHandle<absl::Status>& h : handles) {
    absl::Status s = std::move(h).Wait();  // this thread runs no loop: block
    (void)s;                                // (per-URL errors are in result.bodies)
  }
  (*group)->Shutdown(LoopGroup::kDrain);
  return result;
}

}  // namespace corio::examples
