// fetch_many: the seed program of corio — aiohttp's
//
//   async def fetch(session, url):
//       async with session.get(url) as r:
//           return await r.text()
//   async with aiohttp.ClientSession() as session:
//       bodies = await asyncio.gather(*[fetch(session, u) for u in urls])
//
// in C++: one corio::http::Client, a Gather over the URLs, the first 100 characters of each
// body printed in the order of the list (a failed URL prints its error instead).
//
//   corio::Run(corio::examples::FetchMany({"http://127.0.0.1:8080/a", ...}, stdout));
//
// Threading: on a thread running an EventLoop. Errors: OK when every URL got a response;
// else the first failure (every URL is still fetched and printed).
#ifndef CORIO_EXAMPLES_FETCH_MANY_FETCH_MANY_H_
#define CORIO_EXAMPLES_FETCH_MANY_FETCH_MANY_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/http/client.h"
#include "tasks/task.h"

namespace corio::examples {

// GET `url`, the whole body as text (aiohttp's `await r.text()`).
Task<absl::StatusOr<std::string>> Fetch(http::Client& client, std::string url);

Task<absl::Status> FetchMany(std::vector<std::string> urls, std::FILE* out,
                             http::ClientOptions options = http::ClientOptions());

}  // namespace corio::examples

#endif  // CORIO_EXAMPLES_FETCH_MANY_FETCH_MANY_H_
