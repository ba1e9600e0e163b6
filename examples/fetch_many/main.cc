// fetch_many URL...: fetches the URLs concurrently with one corio::http::Client and prints the
// first 100 characters of each body. Exit status 0 when every URL answered, 1 otherwise.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/fetch_many/fetch_many.h"
#include "tasks/run.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> urls(argv + 1, argv + argc);
  absl::Status s = corio::Run(corio::examples::FetchMany(std::move(urls), stdout));
  return s.ok() ? 0 : 1;
}
