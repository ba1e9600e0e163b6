#include "examples/fetch_many/fetch_many.h"

#include <utility>

#include "base/status_macros.h"
#include "tasks/gather.h"

namespace corio::examples {

Task<absl::StatusOr<std::string>> Fetch(http::Client& client, std::string url) {
  CORIO_CO_ASSIGN_OR_RETURN(http::Response r, co_await client.Get(std::move(url)));
  co_return co_await r.Text();
}

Task<absl::Status> FetchMany(std::vector<std::string> urls, std::FILE* out,
                             http::ClientOptions options) {
  http::Client client(std::move(options));
  std::vector<Task<absl::StatusOr<std::string>>> tasks;
  tasks.reserve(urls.size());
  for (const std::string& url : urls) tasks.push_back(Fetch(client, url));
  // GatherSettled: every URL's outcome (asyncio.gather(..., return_exceptions=True)).
  std::vector<absl::StatusOr<std::string>> bodies = co_await GatherSettled(std::move(tasks));
  absl::Status first_error;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (bodies[i].ok()) {
      std::fprintf(out, "%s: %s\n", urls[i].c_str(), bodies[i]->substr(0, 100).c_str());
    } else {
      std::fprintf(out, "%s: error: %s\n", urls[i].c_str(),
                   std::string(bodies[i].status().message()).c_str());
      if (first_error.ok()) first_error = bodies[i].status();
    }
  }
  co_return first_error;
}

}  // namespace corio::examples
