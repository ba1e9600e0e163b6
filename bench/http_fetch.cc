// http_fetch: corio's HTTP client as a column of ../shared/bench/run_anchors.sh.
//
//   http_fetch --concurrency C --input LIST [--threads N]
//
// Fetches every URL of LIST (one a line) with one corio::http::Client, at most C requests in
// flight (C tasks pulling URLs from a shared index, like the Beast anchor), reads every body to
// the end into a per-task buffer (16 KiB; 256 KiB, or --large_buffer N, for large bodies), and
// prints "ok=N failed=M bytes=B" (decoded body bytes). Environment, as the harness sets it:
// BENCH_CACERT (CA file for https), BENCH_NEWCONN=1 (a new connection per request:
// "Connection: close").
// --threads N (default 1): N loops of a LoopGroup, one Client each, the URLs split between
// them and C kept exact across them with SharedLimits.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "loop/loop_group.h"
#include "net/http/client.h"
#include "tasks/gather.h"
#include "tasks/run.h"
#include "tasks/spawn.h"

namespace {

struct Shared {
  std::vector<std::string> urls;
  std::atomic<size_t> next{0};
  std::atomic<long> ok{0}, failed{0}, bytes{0};
  bool new_connection = false;
  size_t large_buffer = 256 * 1024;
};

corio::Task<void> Worker(corio::http::Client* client, Shared* shared) {
  // 16 KiB for small bodies; a large body gets a large buffer (fewer, bigger reads straight
  // from the socket into it), allocated once per task and only when a large body comes.
  std::vector<char> small(16 * 1024), large;
  long ok = 0, failed = 0, bytes = 0;
  for (;;) {
    const size_t i = shared->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= shared->urls.size()) break;
    corio::http::Request req;
    req.url = shared->urls[i];
    if (shared->new_connection) req.headers.emplace_back("Connection", "close");
    absl::StatusOr<corio::http::Response> r = co_await client->Send(std::move(req));
    if (!r.ok()) {
      if (failed++ < 5) std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      continue;
    }
    bool good = r->status() == 200;
    if (large.empty() && r->content_length().value_or(0) > small.size() * 4) {
      large.resize(shared->large_buffer);
    }
    std::vector<char>& buf = r->content_length().value_or(0) > small.size() * 4 ? large : small;
    for (;;) {
      absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
      if (!n.ok()) {
        if (failed < 5) std::fprintf(stderr, "%s\n", std::string(n.status().message()).c_str());
        good = false;
        break;
      }
      if (*n == 0) break;
      bytes += static_cast<long>(*n);
    }
    if (good) {
      ++ok;
    } else {
      ++failed;
    }
  }
  shared->ok += ok;
  shared->failed += failed;
  shared->bytes += bytes;
}

corio::http::ClientOptions Options(int concurrency) {
  corio::http::ClientOptions o;
  o.limit = concurrency;
  o.max_idle_per_host = concurrency;
  if (const char* ca = std::getenv("BENCH_CACERT")) o.tls.ca_file = ca;
  return o;
}

corio::Task<void> RunClient(corio::http::ClientOptions options, int workers, Shared* shared) {
  corio::http::Client client(std::move(options));
  std::vector<corio::Task<void>> tasks;
  for (int w = 0; w < workers; ++w) tasks.push_back(Worker(&client, shared));
  (void)co_await corio::GatherSettled(std::move(tasks));
}

}  // namespace

int main(int argc, char** argv) {
  int concurrency = 64, threads = 1;
  std::string input;
  Shared shared;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--concurrency" && absl::SimpleAtoi(argv[i + 1], &concurrency)) continue;
    if (flag == "--threads" && absl::SimpleAtoi(argv[i + 1], &threads)) continue;
    if (flag == "--large_buffer" && absl::SimpleAtoi(argv[i + 1], &shared.large_buffer)) continue;
    if (flag == "--input") {
      input = argv[i + 1];
      continue;
    }
    std::fprintf(stderr, "usage: %s --concurrency C --input LIST [--threads N]\n", argv[0]);
    return 2;
  }
  std::ifstream in(input);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", input.c_str());
    return 2;
  }
  for (std::string line; std::getline(in, line);) {
    absl::string_view u = absl::StripAsciiWhitespace(line);
    if (!u.empty()) shared.urls.emplace_back(u);
  }
  const char* newconn = std::getenv("BENCH_NEWCONN");
  shared.new_connection = newconn != nullptr && std::strcmp(newconn, "1") == 0;
  concurrency = std::max(1, concurrency);
  if (threads <= 1) {
    corio::Run(RunClient(Options(concurrency), concurrency, &shared)).IgnoreError();
  } else {
    // One Client per loop; SharedLimits keeps C exact across them.
    auto group = corio::LoopGroup::Create(corio::LoopGroup::Options{.threads = threads}).value();
    corio::http::ClientOptions options = Options(concurrency);
    options.shared_limits = corio::http::SharedLimits::Create(concurrency, 0);
    std::latch done(threads);
    for (int t = 0; t < threads; ++t) {
      const int workers = concurrency / threads + (t < concurrency % threads ? 1 : 0);
      group->loop(t).CallSoonThreadSafe([&, workers] {
        corio::Spawn(
            [](corio::http::ClientOptions o, int w, Shared* s, std::latch* d) -> corio::Task<void> {
              co_await RunClient(std::move(o), w, s);
              d->count_down();
            }(options, workers, &shared, &done))
            .Detach();
      });
    }
    done.wait();
    group->Shutdown(corio::LoopGroup::kDrain);
  }
  std::printf("ok=%ld failed=%ld bytes=%ld\n", shared.ok.load(), shared.failed.load(),
              shared.bytes.load());
  return shared.failed.load() == 0 ? 0 : 1;
}
