// Scale-out, end to end: three fetch_server processes on 127.0.0.1, 127.0.0.2 and 127.0.0.3
// (all loopback), one client balancing over them round robin — through an `ipv4:` target and
// through `dns://DNS/fetch.test:PORT`, the name served by //testing's fake DNS server with
// three A records — fetching from the fake HTTP server. The work is counted per server (each
// answer names its replica), and a replica killed (SIGKILL) mid-run loses no URL.
#include <signal.h>

#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "base/status_macros.h"
#include "cmd/fetch_cmd/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/loop_group.h"
#include "net/fetch/fetch_stream.h"
#include "tasks/run.h"
#include "testing/dns_server.h"
#include "testing/http_server.h"

namespace {

using ::corio::Task;
using ::corio::fetch::FetchClient;
using ::corio::fetch::FetchClientOptions;
using ::corio::fetch::FetchStream;
using ::corio::fetch::FetchStreamItem;
using ::corio::fetch::FetchStreamOptions;
using ::corio::fetch::FetchStreamResult;
using ::corio::fetch::FetchStreamStats;
using ::corio::fetch_cmd::testing::Subprocess;
using ::corio::testing::FakeDnsServer;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpGate;
using ::corio::testing::HttpResponse;

std::string g_binary;  // fetch_server
std::string g_fetch;   // fetch

bool Listening(const std::string& out, const void* arg) {
  const size_t nl = out.find('\n');
  if (nl == std::string::npos) return false;
  *static_cast<std::string*>(const_cast<void*>(arg)) = out.substr(0, nl);
  return true;
}

// One fetch_server process.
class Replica {
 public:
  // Empty optional when the port could not be bound on `host`.
  static std::unique_ptr<Replica> Start(const std::string& host, int port) {
    auto p = Subprocess::Start({g_binary, "--host=" + host, "--port=" + std::to_string(port),
                                "--threads=1", "--allow_private_networks"});
    if (!p.ok()) return nullptr;
    auto r = std::unique_ptr<Replica>(new Replica(*std::move(p)));
    std::string line;
    if (!r->process_.ReadStdoutUntil(&Listening, &line, absl::Seconds(60)) ||
        !absl::StartsWith(line, "listening on ")) {
      r->process_.Signal(SIGKILL);
      r->process_.Wait();
      r->dead_ = true;
      return nullptr;
    }
    r->address_ = line.substr(std::string("listening on ").size());
    return r;
  }
  ~Replica() {
    if (!dead_) {
      process_.Signal(SIGTERM);
      process_.Wait();
    }
  }
  void Kill() {
    process_.Signal(SIGKILL);
    process_.Wait();
    dead_ = true;
  }
  const std::string& address() const { return address_; }
  int port() const { return std::stoi(address_.substr(address_.rfind(':') + 1)); }
  std::string host() const { return address_.substr(0, address_.rfind(':')); }

 private:
  explicit Replica(Subprocess p) : process_(std::move(p)) {}
  Subprocess process_;
  std::string address_;
  bool dead_ = false;
};

// Three replicas on 127.0.0.1/.2/.3, all on one port when `same_port` (for a DNS name).
std::vector<std::unique_ptr<Replica>> StartThree(bool same_port) {
  for (int tries = 0; tries < 20; ++tries) {
    std::vector<std::unique_ptr<Replica>> r;
    r.push_back(Replica::Start("127.0.0.1", 0));
    if (r[0] == nullptr) continue;
    const int port = same_port ? r[0]->port() : 0;
    r.push_back(Replica::Start("127.0.0.2", port));
    r.push_back(Replica::Start("127.0.0.3", port));
    if (r[1] != nullptr && r[2] != nullptr) return r;
  }
  ADD_FAILURE() << "could not start three replicas";
  return {};
}

// A FakeDnsServer on a loop thread of its own.
class BackgroundDns {
 public:
  BackgroundDns() : group_(*corio::LoopGroup::Create(corio::LoopGroup::Options{.threads = 1})) {
    Do([&] { dns_ = *FakeDnsServer::Start(); });
  }
  ~BackgroundDns() {
    Do([&] { dns_.reset(); });
    group_->Shutdown();
  }
  void Do(std::function<void()> f) {
    std::promise<void> done;
    group_->Post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  FakeDnsServer& dns() { return *dns_; }

 private:
  std::unique_ptr<corio::LoopGroup> group_;
  std::unique_ptr<FakeDnsServer> dns_;
};

// "ipv4:A,B,C": the three replicas' addresses.
std::string Ipv4Target(const std::vector<std::unique_ptr<Replica>>& replicas) {
  std::string target = "ipv4:";
  for (size_t i = 0; i < replicas.size(); ++i) {
    target += (i == 0 ? "" : ",") + replicas[i]->address();
  }
  return target;
}

// "dns://DNS/fetch.test:PORT": `dns` serves fetch.test with an A record for each replica (all
// on one port, StartThree(/*same_port=*/true)).
std::string DnsTarget(BackgroundDns& dns, const std::vector<std::unique_ptr<Replica>>& replicas) {
  std::string dns_address;
  dns.Do([&] {
    for (const auto& r : replicas) dns.dns().AddA("fetch.test", r->host());
    dns_address = dns.dns().address().ToString();
  });
  return "dns://" + dns_address + "/fetch.test:" + std::to_string(replicas[0]->port());
}

struct RunOutcome {
  std::vector<FetchStreamResult> results;
  FetchStreamStats stats;
};

// One-request calls (waiting for connections) until `n` replicas have answered one, so that
// round robin rotates over all of them from the first real call on.
Task<absl::Status> WarmUp(FetchClient& client, const std::string& url, size_t n) {
  std::set<std::string> seen;
  corio::fetch::CallOptions call;
  call.wait_for_ready = true;
  for (int i = 0; i < 1000 && seen.size() < n; ++i) {
    corio::fetch::v1::FetchManyRequest m;
    m.add_requests()->set_url(url);
    std::unique_ptr<corio::fetch::FetchManyCall> c = client.FetchMany(std::move(m), call);
    for (;;) {
      CORIO_CO_ASSIGN_OR_RETURN(std::optional<corio::fetch::v1::FetchResponse> r,
                                co_await c->Next());
      if (!r.has_value()) break;
    }
    seen.insert(c->server());
  }
  if (seen.size() < n) co_return absl::UnavailableError("not every replica answered");
  co_return absl::OkStatus();
}

// Fetches `urls` through `target` (after warming up on `warm_url` when given).
RunOutcome FetchAll(const std::string& target, const std::vector<std::string>& urls,
                    const std::string& warm_url = "") {
  FetchClientOptions co;
  co.target = target;
  std::unique_ptr<FetchClient> client = *FetchClient::Create(co);
  RunOutcome out;
  auto main = [&]() -> Task<absl::Status> {
    if (!warm_url.empty()) {
      absl::Status warm = co_await WarmUp(*client, warm_url, 3);
      CORIO_CO_RETURN_IF_ERROR(warm);
    }
    FetchStream stream(*client, FetchStreamOptions{.concurrency = 24, .batch_size = 2});
    for (size_t i = 0; i < urls.size(); ++i) {
      FetchStreamItem item;
      item.id = i;
      item.request.set_url(urls[i]);
      item.request.set_body_mode(corio::fetch::v1::BODY_MODE_SIZE_ONLY);
      stream.Push(std::move(item));
    }
    stream.Close();
    for (;;) {
      CORIO_CO_ASSIGN_OR_RETURN(std::optional<FetchStreamResult> r, co_await stream.Next());
      if (!r.has_value()) break;
      out.results.push_back(*std::move(r));
    }
    out.stats = stream.stats();
    co_return absl::OkStatus();
  };
  absl::Status s = corio::Run(main());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::vector<std::string> Urls(const FakeHttpServer& http, int n) {
  std::vector<std::string> urls;
  for (int i = 0; i < n; ++i) urls.push_back(http.url("/page/" + std::to_string(i)));
  return urls;
}

void ExpectEveryUrlOnceOk(const RunOutcome& o, size_t n) {
  EXPECT_EQ(o.results.size(), n);
  std::set<uint64_t> ids;
  for (const FetchStreamResult& r : o.results) {
    EXPECT_TRUE(ids.insert(r.id).second) << "twice: " << r.id;
    EXPECT_TRUE(r.status.ok()) << r.id << ": " << r.status;
    EXPECT_EQ(r.response.status(), 200);
  }
  EXPECT_EQ(ids.size(), n);
}

std::string Spread(const FetchStreamStats& st) {
  std::string s;
  for (const auto& [server, n] : st.answered_by_server) s += server + "=" + std::to_string(n) + " ";
  return s;
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_ = *FakeHttpServer::StartInBackground();
    http_->RoutePrefix("/page/", HttpResponse::Text(200, std::string(1024, 'x')));
  }
  std::unique_ptr<FakeHttpServer> http_;
};

TEST_F(ScaleOutTest, Ipv4TargetSpreadsOverThreeReplicas) {
  auto replicas = StartThree(/*same_port=*/false);
  ASSERT_EQ(replicas.size(), 3u);
  const std::string target = Ipv4Target(replicas);
  constexpr int kUrls = 900;
  RunOutcome o = FetchAll(target, Urls(*http_, kUrls));
  ExpectEveryUrlOnceOk(o, kUrls);
  std::cout << "ipv4 spread: " << Spread(o.stats) << "\n";
  ASSERT_EQ(o.stats.answered_by_server.size(), 3u) << Spread(o.stats);
  for (const auto& r : replicas) EXPECT_GT(o.stats.answered_by_server[r->address()], 0);
}

TEST_F(ScaleOutTest, DnsTargetWithAnAuthoritySpreadsOverThreeReplicas) {
  auto replicas = StartThree(/*same_port=*/true);
  ASSERT_EQ(replicas.size(), 3u);
  BackgroundDns dns;
  const std::string target = DnsTarget(dns, replicas);
  constexpr int kUrls = 900;
  RunOutcome o = FetchAll(target, Urls(*http_, kUrls));
  ExpectEveryUrlOnceOk(o, kUrls);
  std::cout << "dns spread (" << target << "): " << Spread(o.stats) << "\n";
  ASSERT_EQ(o.stats.answered_by_server.size(), 3u) << Spread(o.stats);
  int queries = 0;
  dns.Do([&] { queries = dns.dns().queries("fetch.test"); });
  EXPECT_GT(queries, 0);  // the name was resolved by the fake server
}

TEST_F(ScaleOutTest, AReplicaKilledMidRunLosesNoUrl) {
  auto replicas = StartThree(/*same_port=*/false);
  ASSERT_EQ(replicas.size(), 3u);
  const std::string target = Ipv4Target(replicas);
  // The first wave of fetches is held at the HTTP server, so every replica (the victim too)
  // has work in flight when the victim is killed; then everything flows.
  std::shared_ptr<HttpGate> gate = HttpGate::Create();
  http_->RoutePrefix("/held/", HttpResponse::Text(200, std::string(1024, 'x')).WithGate(gate));
  constexpr int kUrls = 600;
  constexpr int kInFlight = 24;  // FetchAll's concurrency
  std::vector<std::string> urls;
  for (int i = 0; i < kUrls; ++i) urls.push_back(http_->url("/held/" + std::to_string(i)));
  Replica& victim = *replicas[1];
  const std::string victim_address = victim.address();
  std::thread killer([&] {
    EXPECT_TRUE(http_->WaitUntil(
        [](const FakeHttpServer::Stats& s) { return s.in_flight == kInFlight; }));
    victim.Kill();  // SIGKILL: its calls in flight break
    gate->Open();
  });
  RunOutcome o = FetchAll(target, urls, http_->url("/page/warm-up"));
  killer.join();
  ExpectEveryUrlOnceOk(o, kUrls);
  std::cout << "kill spread: " << Spread(o.stats) << " failed calls " << o.stats.failed_calls
            << ", retried items " << o.stats.retried_items << "\n";
  EXPECT_GT(o.stats.failed_calls, 0);
  EXPECT_GT(o.stats.retried_items, 0);
  EXPECT_EQ(o.stats.answered_by_server.count(victim_address), 0u);  // it never got to answer
  EXPECT_EQ(o.stats.answered_by_server.size(), 2u);
}

// The same, as a user does it: the fetch command with --server. Its total line (stderr, in
// jsonl mode) names how many URLs each replica answered.
struct CommandOutcome {
  int exit_code = -1;
  int results = 0;
  int ok = 0;
  std::map<std::string, int> by_server;
  std::string err;
};

CommandOutcome RunFetchCommand(const std::string& target, const std::vector<std::string>& urls) {
  std::string list;
  for (const std::string& u : urls) list += u + "\n";
  auto p = Subprocess::Start({g_fetch, "--output=jsonl", "--concurrency=24", "--input=-",
                              "--server=" + target});
  EXPECT_TRUE(p.ok());
  p->FeedStdinAndClose(std::move(list));
  Subprocess::Result r = p->Wait();
  CommandOutcome o;
  o.exit_code = r.exit_code;
  o.err = r.err;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    ++o.results;
    if (absl::StrContains(line, "\"status\":200,")) ++o.ok;
  }
  // "..., via 3 servers (127.0.0.1:1: 300, 127.0.0.2:1: 300, 127.0.0.3:1: 300), ..."
  const size_t via = r.err.find(" servers (");
  if (via != std::string::npos) {
    const size_t end = r.err.find(')', via);
    for (absl::string_view entry : absl::StrSplit(
             absl::string_view(r.err).substr(via + 10, end - via - 10), ", ")) {
      const size_t colon = entry.rfind(": ");
      if (colon == absl::string_view::npos) continue;
      int n = 0;
      if (absl::SimpleAtoi(entry.substr(colon + 2), &n)) o.by_server[std::string(entry.substr(0, colon))] = n;
    }
  }
  return o;
}

TEST_F(ScaleOutTest, FetchCommandOverAnIpv4TargetUsesEveryReplica) {
  auto replicas = StartThree(/*same_port=*/false);
  ASSERT_EQ(replicas.size(), 3u);
  const std::string target = Ipv4Target(replicas);
  constexpr int kUrls = 900;
  CommandOutcome o = RunFetchCommand(target, Urls(*http_, kUrls));
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.results, kUrls);
  EXPECT_EQ(o.ok, kUrls);
  std::cout << "fetch --server ipv4 spread: " << o.err;
  ASSERT_EQ(o.by_server.size(), 3u) << o.err;
  for (const auto& r : replicas) EXPECT_GT(o.by_server[r->address()], 0) << r->address();
}

TEST_F(ScaleOutTest, FetchCommandOverADnsNameUsesEveryReplica) {
  auto replicas = StartThree(/*same_port=*/true);
  ASSERT_EQ(replicas.size(), 3u);
  BackgroundDns dns;
  const std::string target = DnsTarget(dns, replicas);
  constexpr int kUrls = 900;
  CommandOutcome o = RunFetchCommand(target, Urls(*http_, kUrls));
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.ok, kUrls);
  std::cout << "fetch --server dns spread (" << target << "): " << o.err;
  EXPECT_EQ(o.by_server.size(), 3u) << o.err;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: fetch_scale_out_test PATH_TO_FETCH_SERVER PATH_TO_FETCH\n");
    return 2;
  }
  g_binary = argv[1];
  g_fetch = argv[2];
  return RUN_ALL_TESTS();
}
