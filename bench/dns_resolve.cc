// corio's resolver on the DNS anchor's job (../shared/bench/dns): resolve every name of a file
// (one per line) once, IPv4, DNS only, `inflight` lookups at a time, on one corio loop.
//   dns_resolve NAMES_FILE SERVER:PORT INFLIGHT
// Prints, like cares_bench.c: lookups= ok= failed= wall_s= lookups_per_s= cpu_us_per_lookup=
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "loop/event_loop.h"
#include "net/dns/resolver.h"
#include "tasks/gather.h"
#include "tasks/run.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Counts {
  long ok = 0;
  long failed = 0;
};

// One of `inflight` workers: takes the next name until none are left.
corio::Task<void> Worker(corio::dns::Resolver* resolver, const std::vector<std::string>* names,
                         size_t* next, Counts* counts) {
  while (*next < names->size()) {
    const std::string& name = (*names)[(*next)++];
    absl::StatusOr<std::vector<corio::SocketAddress>> r =
        co_await resolver->Resolve(name, 0, AF_INET);
    if (r.ok()) {
      ++counts->ok;
    } else {
      ++counts->failed;
    }
  }
}

corio::Task<absl::Status> Main(std::vector<std::string> names, corio::SocketAddress server,
                               int inflight) {
  corio::dns::ResolverOptions options;
  options.servers = {server};
  options.use_hosts_file = false;
  options.cache_entries = 0;  // every name once anyway; measure the resolver, not a cache
  absl::StatusOr<std::unique_ptr<corio::dns::Resolver>> resolver =
      corio::dns::Resolver::Create(options);
  if (!resolver.ok()) co_return resolver.status();
  Counts counts;
  size_t next = 0;
  std::vector<corio::Task<void>> workers;
  for (int i = 0; i < inflight; ++i) workers.push_back(Worker(resolver->get(), &names, &next, &counts));
  const double cpu0 = CpuSeconds();
  const absl::Time t0 = absl::Now();
  (void)co_await corio::Gather(std::move(workers));
  const double wall = absl::ToDoubleSeconds(absl::Now() - t0);
  const double cpu = CpuSeconds() - cpu0;
  std::printf("lookups=%zu ok=%ld failed=%ld wall_s=%.3f lookups_per_s=%.0f cpu_us_per_lookup=%.2f\n",
              names.size(), counts.ok, counts.failed, wall, names.size() / wall,
              cpu * 1e6 / names.size());
  co_return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: dns_resolve NAMES_FILE SERVER:PORT INFLIGHT\n");
    return 2;
  }
  std::vector<std::string> names;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  absl::StatusOr<corio::SocketAddress> server = corio::SocketAddress::Parse(argv[2]);
  int inflight = 0;
  if (!server.ok() || !absl::SimpleAtoi(argv[3], &inflight) || inflight <= 0) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  absl::Status s = corio::Run(Main(std::move(names), *server, inflight));
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
