// parallel_fetch URL...: fetches the URLs on every core (one loop and one Client per core) and
// prints the first 100 characters of each body, in the order given.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/parallel_fetch/parallel_fetch.h"

int main(int argc, char** argv) {
  std::vector<std::string> urls(argv + 1, argv + argc);
  corio::examples::ParallelResult r = corio::examples::FetchParallel(urls, {});
  int failed = 0;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (r.bodies[i].ok()) {
      std::printf("%s: %s\n", urls[i].c_str(), r.bodies[i]->substr(0, 100).c_str());
    } else {
      ++failed;
      std::printf("%s: error: %s\n", urls[i].c_str(),
                  std::string(r.bodies[i].status().message()).c_str());
    }
  }
  return failed == 0 ? 0 : 1;
}
