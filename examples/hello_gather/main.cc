// bazel run //examples/hello_gather
#include <cstdio>

#include "examples/hello_gather/hello_gather.h"
#include "tasks/run.h"

int main() {
  absl::StatusOr<absl::Duration> took = corio::Run(corio::examples::HelloGather(stdout));
  if (!took.ok()) {
    std::fprintf(stderr, "%s\n", took.status().ToString().c_str());
    return 1;
  }
  std::printf("three 1 s waits finished in %.2f s\n", absl::ToDoubleSeconds(*took));
  return 0;
}
