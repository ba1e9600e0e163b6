// fetch_service: the fetch service's client side as a column of ../shared/bench/run_anchors.sh.
//
//   fetch_service --target T --input LIST --concurrency C [--mode stream|unary] [--batch B]
//
// Fetches every URL of LIST (one a line) through the fetch service at TARGET (any gRPC target;
// several replicas are balanced round robin), bodies counted by the servers and not sent back
// (BODY_MODE_SIZE_ONLY, as the fetch command's jsonl/summary modes count and drop them), and
// prints "ok=N failed=M bytes=B" (B: decoded body bytes of the 200s). On stderr: the work per
// replica.
//   --mode stream (default): one FetchStream, C URLs in flight in FetchMany calls of B (16).
//   --mode unary: C tasks, each making one unary Fetch call at a time (C calls in flight).
// Before timing starts nothing is warmed up: connecting to the replicas is part of the run.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "net/fetch/client.h"
#include "net/fetch/fetch_stream.h"
#include "tasks/gather.h"
#include "tasks/run.h"

namespace {

using corio::Task;
using corio::fetch::FetchClient;
namespace v1 = corio::fetch::v1;

struct Tally {
  int64_t ok = 0, failed = 0, bytes = 0;
  std::map<std::string, int64_t> by_server;
  std::string first_error;
  void Add(const absl::Status& s, const v1::FetchResponse& r) {
    if (s.ok() && r.status() == 200) {
      ++ok;
      bytes += r.body_size();
    } else {
      ++failed;
      if (first_error.empty()) {
        first_error = s.ok() ? "HTTP " + std::to_string(r.status()) : s.ToString();
      }
    }
  }
};

v1::FetchRequest Request(const std::string& url) {
  v1::FetchRequest r;
  r.set_url(url);
  r.set_body_mode(v1::BODY_MODE_SIZE_ONLY);
  return r;
}

Task<absl::Status> Stream(FetchClient& client, const std::vector<std::string>& urls, int c,
                          int batch, Tally& tally) {
  corio::fetch::FetchStream stream(
      client, corio::fetch::FetchStreamOptions{.concurrency = c, .batch_size = batch});
  for (size_t i = 0; i < urls.size(); ++i) stream.Push({.id = i, .request = Request(urls[i])});
  stream.Close();
  for (;;) {
    absl::StatusOr<std::optional<corio::fetch::FetchStreamResult>> r = co_await stream.Next();
    if (!r.ok()) co_return r.status();
    if (!r->has_value()) break;
    tally.Add((*r)->status, (*r)->response);
  }
  tally.by_server = stream.stats().answered_by_server;
  co_return absl::OkStatus();
}

Task<absl::Status> UnaryWorker(FetchClient& client, const std::vector<std::string>& urls,
                               size_t& next, Tally& tally) {
  while (next < urls.size()) {
    const size_t i = next++;
    absl::StatusOr<v1::FetchResponse> r = co_await client.Fetch(Request(urls[i]));
    tally.Add(r.status(), r.ok() ? *r : v1::FetchResponse());
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Unary(FetchClient& client, const std::vector<std::string>& urls, int c,
                         Tally& tally) {
  size_t next = 0;
  std::vector<Task<absl::Status>> workers;
  for (int i = 0; i < c; ++i) workers.push_back(UnaryWorker(client, urls, next, tally));
  auto all = co_await corio::Gather(std::move(workers));
  co_return all.status();
}

int Usage() {
  std::fprintf(stderr,
               "usage: fetch_service --target T --input LIST --concurrency C "
               "[--mode stream|unary] [--batch B]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, input, mode = "stream";
  int c = 64, batch = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--target") {
      target = value;
    } else if (flag == "--input") {
      input = value;
    } else if (flag == "--mode") {
      mode = value;
    } else if (flag == "--concurrency") {
      if (!absl::SimpleAtoi(value, &c) || c < 1) return Usage();
    } else if (flag == "--batch") {
      if (!absl::SimpleAtoi(value, &batch) || batch < 1) return Usage();
    } else {
      return Usage();
    }
  }
  if (target.empty() || input.empty() || (mode != "stream" && mode != "unary")) return Usage();
  std::vector<std::string> urls;
  std::ifstream in(input);
  for (std::string line; std::getline(in, line);) {
    absl::string_view u = absl::StripAsciiWhitespace(line);
    if (!u.empty()) urls.emplace_back(u);
  }
  absl::StatusOr<std::unique_ptr<FetchClient>> client =
      FetchClient::Create(corio::fetch::FetchClientOptions{.target = target});
  if (!client.ok()) {
    std::fprintf(stderr, "fetch_service: %s\n", client.status().ToString().c_str());
    return 1;
  }
  Tally tally;
  absl::Status s = mode == "stream" ? corio::Run(Stream(**client, urls, c, batch, tally))
                                    : corio::Run(Unary(**client, urls, c, tally));
  client->reset();
  if (!s.ok()) std::fprintf(stderr, "fetch_service: %s\n", s.ToString().c_str());
  for (const auto& [server, n] : tally.by_server) {
    std::fprintf(stderr, "  %s: %lld\n", server.c_str(), static_cast<long long>(n));
  }
  if (!tally.first_error.empty()) {
    std::fprintf(stderr, "fetch_service: first failure: %s\n", tally.first_error.c_str());
  }
  std::printf("ok=%lld failed=%lld bytes=%lld\n", static_cast<long long>(tally.ok),
              static_cast<long long>(tally.failed), static_cast<long long>(tally.bytes));
  return s.ok() && tally.failed == 0 ? 0 : 1;
}
