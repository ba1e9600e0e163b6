// End-to-end tests of the fetch command: the built binary, run as a user runs it, against
// in-process fake servers on loopback. Outputs are parsed (jsonl), files read, exit statuses and
// server-side counters checked.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/fetch_cmd/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/socket_address.h"
#include "net/tls/tls_context.h"
#include "testing/http_server.h"
#include "testing/tls_certs.h"

namespace corio::fetch_cmd {
namespace {

using ::corio::fetch_cmd::testing::JsonObject;
using ::corio::fetch_cmd::testing::ParseJsonLines;
using ::corio::fetch_cmd::testing::Subprocess;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpRequest;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;
using ::testing::StartsWith;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

std::string g_fetch_path;

Subprocess::Result RunFetch(std::vector<std::string> args, const std::string& stdin_data = "") {
  args.insert(args.begin(), g_fetch_path);
  absl::StatusOr<Subprocess> p = Subprocess::Start(args);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!stdin_data.empty()) p->FeedStdinAndClose(stdin_data);
  return p->Wait();
}

// The jsonl lines of a run, keyed by their "url".
std::map<std::string, JsonObject> ByUrl(const std::string& out) {
  std::map<std::string, JsonObject> m;
  for (JsonObject& o : ParseJsonLines(out)) m[o["url"].str] = o;
  return m;
}

std::string ErrorCode(const JsonObject& o) {
  auto it = o.find("error_code");
  return it == o.end() || it->second.is_null() ? "" : it->second.str;
}

int Status(const JsonObject& o) {
  auto it = o.find("status");
  return it == o.end() || it->second.is_null() ? 0 : static_cast<int>(it->second.number);
}

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = FakeHttpServer::StartInBackground();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    server_->Route("/hello", HttpResponse::Text(200, "hello world"));
    server_->RoutePrefix("/page/", [](const HttpRequest& r) {
      return HttpResponse::Text(200, absl::StrCat("page ", r.path));
    });
    server_->Route("/missing", HttpResponse::Text(404, "no such page"));
  }
  std::string Url(absl::string_view path) const { return server_->url(path); }

  std::unique_ptr<FakeHttpServer> server_;
};

TEST_F(FetchTest, JsonlHasExactlyTheContractFields) {
  Subprocess::Result r = RunFetch({"--output=jsonl", Url("/hello"), Url("/missing")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const std::set<std::string> kFields = {"url",       "status",    "bytes", "elapsed_ms",
                                         "final_url", "redirects", "error", "error_code"};
  for (const JsonObject& o : lines) {
    std::set<std::string> keys;
    for (const auto& [k, v] : o) keys.insert(k);
    EXPECT_EQ(keys, kFields) << r.out;
    EXPECT_TRUE(o.at("error").is_null());
    EXPECT_TRUE(o.at("error_code").is_null());
    EXPECT_EQ(o.at("elapsed_ms").kind, testing::JsonValue::kNumber);
  }
  auto m = ByUrl(r.out);
  EXPECT_EQ(Status(m[Url("/hello")]), 200);
  EXPECT_EQ(m[Url("/hello")]["bytes"].number, 11);
  EXPECT_EQ(m[Url("/hello")]["final_url"].str, Url("/hello"));
  EXPECT_EQ(m[Url("/hello")]["redirects"].number, 0);
  EXPECT_EQ(Status(m[Url("/missing")]), 404) << "a 404 is a response, not an error";
}

TEST_F(FetchTest, MalformedUrlsAreFailedItemsNotAnAbortedRun) {
  const std::vector<std::string> kBad = {"htp://x", "http://", "http://[::1", "not a url",
                                         absl::StrCat("http://127.0.0.1:99999/")};
  std::vector<std::string> args = {"--output=jsonl"};
  for (const auto& b : kBad) args.push_back(b);
  args.push_back(Url("/hello"));
  Subprocess::Result r = RunFetch(args);
  EXPECT_EQ(r.exit_code, 1);
  auto m = ByUrl(r.out);
  ASSERT_EQ(m.size(), kBad.size() + 1) << r.out;
  for (const auto& b : kBad) {
    EXPECT_EQ(ErrorCode(m[b]), "INVALID_ARGUMENT") << b;
    EXPECT_TRUE(m[b]["status"].is_null()) << b;
    EXPECT_TRUE(m[b]["final_url"].is_null()) << b;
    EXPECT_FALSE(m[b]["error"].str.empty()) << b;
  }
  EXPECT_EQ(Status(m[Url("/hello")]), 200);
}

TEST_F(FetchTest, SummaryHasALinePerUrlAndATotal) {
  Subprocess::Result r = RunFetch({Url("/hello"), Url("/missing"), "htp://x"});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(r.out, HasSubstr(Url("/hello")));
  EXPECT_THAT(r.out, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(lines.back(), StartsWith("3 URLs: 2 ok (1 2xx, 1 4xx), 1 failed (1 INVALID_ARGUMENT)"));
  EXPECT_THAT(lines.back(), HasSubstr("req/s"));
}

TEST_F(FetchTest, BodiesInInputOrder) {
  server_->Route("/slow", HttpResponse::Text(200, "first").WithDelayBeforeHead(absl::Milliseconds(200)));
  Subprocess::Result r = RunFetch({"--output=body", Url("/slow"), Url("/hello"), Url("/page/x")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "first\nhello world\npage /page/x\n");
}

TEST_F(FetchTest, InputFileSkipsBlanksAndCommentsAndAcceptsCrlf) {
  char path[] = "/tmp/corio_fetch_input_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string list =
      absl::StrCat("# a comment\r\n\r\n   \r\n", Url("/page/1"), "\r\n  ", Url("/page/2"), "  \n");
  ASSERT_EQ(write(fd, list.data(), list.size()), static_cast<ssize_t>(list.size()));
  close(fd);
  Subprocess::Result r = RunFetch({"--output=jsonl", absl::StrCat("--input=", path)});
  unlink(path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto m = ByUrl(r.out);
  ASSERT_EQ(m.size(), 2u) << r.out;
  EXPECT_EQ(Status(m[Url("/page/1")]), 200);
  EXPECT_EQ(Status(m[Url("/page/2")]), 200);
}

TEST_F(FetchTest, StdinIsReadLazilyAndResultsComeBeforeTheEnd) {
  absl::StatusOr<Subprocess> p =
      Subprocess::Start({g_fetch_path, "--output=jsonl", "--input=-", "--concurrency=4"});
  ASSERT_TRUE(p.ok());
  std::string first;
  for (int i = 0; i < 5; ++i) first += Url(absl::StrCat("/page/", i)) + "\n";
  ASSERT_TRUE(p->WriteStdin(first));
  // stdin is still open: the first five results must come anyway.
  EXPECT_TRUE(p->WaitForLines(5, absl::Seconds(60)));
  ASSERT_TRUE(p->WriteStdin(Url("/page/last") + "\n"));
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 6u);
}

// With more permits than lines, the reader sends what it has read before it waits for more
// input (URLs go to the loops in batches): one line, stdin left open, its result comes.
TEST_F(FetchTest, ABatchOfUrlsIsSentBeforeTheReaderWaitsForInput) {
  absl::StatusOr<Subprocess> p =
      Subprocess::Start({g_fetch_path, "--output=jsonl", "--input=-", "--concurrency=64"});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->WriteStdin("# a comment\n\n" + Url("/page/0") + "\n# another\n"));
  EXPECT_TRUE(p->WaitForLines(1, absl::Seconds(60)));
  ASSERT_TRUE(p->WriteStdin(Url("/page/1") + "\n"));
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 2u);
}

TEST_F(FetchTest, RedirectsAreFollowedAndCounted) {
  server_->Route("/r1", HttpResponse::Redirect(302, "/r2"));
  server_->Route("/r2", HttpResponse::Redirect(301, Url("/hello")));
  Subprocess::Result r = RunFetch({"--output=jsonl", Url("/r1")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto m = ByUrl(r.out);
  EXPECT_EQ(Status(m[Url("/r1")]), 200);
  EXPECT_EQ(m[Url("/r1")]["redirects"].number, 2);
  EXPECT_EQ(m[Url("/r1")]["final_url"].str, Url("/hello"));

  Subprocess::Result limited = RunFetch({"--output=jsonl", "--max_redirects=1", Url("/r1")});
  EXPECT_EQ(limited.exit_code, 1);
  EXPECT_FALSE(ErrorCode(ByUrl(limited.out)[Url("/r1")]).empty()) << limited.out;

  Subprocess::Result none = RunFetch({"--output=jsonl", "--max_redirects=0", Url("/r1")});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(Status(ByUrl(none.out)[Url("/r1")]), 302);
}

TEST_F(FetchTest, MethodHeadersAndDataReachTheServer) {
  server_->Route("/echo", corio::testing::EchoResponse);
  Subprocess::Result r =
      RunFetch({"--output=body", "--method=PUT", "--header=X-One: a, b: c", "--header",
                "X-Two:2", "--data=payload", Url("/echo")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<HttpRequest> got = server_->received_requests();
  ASSERT_FALSE(got.empty());
  const HttpRequest& req = got.back();
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.Header("X-One").value_or(""), "a, b: c");
  EXPECT_EQ(req.Header("X-Two").value_or(""), "2");
  EXPECT_EQ(req.body, "payload");
}

TEST_F(FetchTest, PostRedirectedBy303BecomesGet) {
  server_->Route("/form", HttpResponse::Redirect(303, "/echo"));
  server_->Route("/echo", corio::testing::EchoResponse);
  Subprocess::Result r = RunFetch({"--output=jsonl", "--data=x=1", Url("/form")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<HttpRequest> got = server_->received_requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[1].method, "GET");
  EXPECT_TRUE(got[1].body.empty());
}

TEST_F(FetchTest, KeepAliveConnectionsArePooled) {
  std::vector<std::string> args = {"--output=jsonl", "--concurrency=2", "--threads=1"};
  for (int i = 0; i < 50; ++i) args.push_back(Url(absl::StrCat("/page/", i)));
  Subprocess::Result r = RunFetch(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 50u);
  EXPECT_LE(server_->stats().connections_accepted, 2);
  EXPECT_EQ(server_->requests(), 50);
}

TEST_F(FetchTest, ConcurrencyIsCappedInTotalAndUsedFully) {
  auto gate = corio::testing::HttpGate::Create();
  server_->RoutePrefix("/held/", HttpResponse::Text(200, "x").WithGate(gate));
  std::vector<std::string> args = {"--output=jsonl", "--concurrency=5", "--threads=2"};
  for (int i = 0; i < 60; ++i) args.push_back(Url(absl::StrCat("/held/", i)));
  args.insert(args.begin(), g_fetch_path);
  absl::StatusOr<Subprocess> p = Subprocess::Start(args);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(server_->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight >= 5; }));
  gate->Open();
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 60u);
  EXPECT_EQ(server_->stats().max_in_flight, 5);
}

TEST_F(FetchTest, PerHostLimitHoldsAcrossLoops) {
  auto gate = corio::testing::HttpGate::Create();
  server_->RoutePrefix("/held/", HttpResponse::Text(200, "x").WithGate(gate));
  std::vector<std::string> args = {g_fetch_path, "--output=jsonl", "--concurrency=16",
                                   "--limit_per_host=2", "--threads=2"};
  const std::string alias = absl::StrCat("http://localhost:", server_->port());
  for (int i = 0; i < 30; ++i) {
    args.push_back(Url(absl::StrCat("/held/a", i)));
    args.push_back(absl::StrCat(alias, "/held/b", i));
  }
  absl::StatusOr<Subprocess> p = Subprocess::Start(args);
  ASSERT_TRUE(p.ok());
  // Two per host, two hosts: four in flight, no more, while the gate is shut.
  ASSERT_TRUE(server_->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight >= 4; }));
  gate->Open();
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 60u);
  EXPECT_EQ(server_->max_in_flight_for_host(server_->authority()), 2);
  EXPECT_EQ(server_->max_in_flight_for_host(absl::StrCat("localhost:", server_->port())), 2);
}

TEST_F(FetchTest, TotalTimeoutEndsAStalledRequest) {
  server_->Route("/stall", HttpResponse::Stall());
  Subprocess::Result r = RunFetch({"--output=jsonl", "--timeout=300ms", Url("/stall"), Url("/hello")});
  EXPECT_EQ(r.exit_code, 1);
  auto m = ByUrl(r.out);
  EXPECT_EQ(ErrorCode(m[Url("/stall")]), "DEADLINE_EXCEEDED");
  EXPECT_EQ(Status(m[Url("/hello")]), 200);
}

TEST_F(FetchTest, TimeoutCoversATricklingBody) {
  server_->Route("/trickle", HttpResponse::Text(200, std::string(100000, 'x'))
                                 .WithTrickle(1, absl::Milliseconds(50)));
  Subprocess::Result r = RunFetch({"--output=jsonl", "--timeout=400ms", Url("/trickle")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ErrorCode(ByUrl(r.out)[Url("/trickle")]), "DEADLINE_EXCEEDED");
}

TEST_F(FetchTest, ConnectTimeoutOnAPeerThatNeverAccepts) {
  // A listener with a full accept queue: further SYNs are dropped and connect() hangs.
  int l = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(l, 0), 0);
  socklen_t len = sizeof(a);
  getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {  // fill the queue
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    fillers.push_back(c);
  }
  Subprocess::Result r = RunFetch({"--output=jsonl", "--connect_timeout=300ms", "--timeout=20s",
                                   absl::StrCat("http://127.0.0.1:", port, "/")});
  for (int c : fillers) close(c);
  close(l);
  EXPECT_EQ(r.exit_code, 1);
  auto lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(ErrorCode(lines[0]), "DEADLINE_EXCEEDED") << r.out;
  EXPECT_THAT(lines[0]["error"].str, HasSubstr("connect")) << r.out;
}

TEST_F(FetchTest, RetriesUntilSuccessAndCountsAttempts) {
  server_->RouteSequence("/flaky", {HttpResponse::Status(503), HttpResponse::Status(503),
                                    HttpResponse::Text(200, "ok")});
  Subprocess::Result r = RunFetch({"--output=jsonl", "--retries=3", Url("/flaky")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(ByUrl(r.out)[Url("/flaky")]), 200);
  EXPECT_EQ(server_->requests("/flaky"), 3);
}

TEST_F(FetchTest, WithoutRetriesA503IsTheResponse) {
  server_->RouteSequence("/flaky", {HttpResponse::Status(503), HttpResponse::Text(200, "ok")});
  Subprocess::Result r = RunFetch({"--output=jsonl", Url("/flaky")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Status(ByUrl(r.out)[Url("/flaky")]), 503);
  EXPECT_EQ(server_->requests("/flaky"), 1);
}

TEST_F(FetchTest, RetriesHonourRetryAfter) {
  server_->RouteSequence("/busy", {HttpResponse::Status(429).WithRetryAfter(absl::Seconds(1)),
                                   HttpResponse::Text(200, "ok")});
  Subprocess::Result r = RunFetch({"--output=jsonl", "--retries=1", Url("/busy")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto m = ByUrl(r.out);
  EXPECT_EQ(Status(m[Url("/busy")]), 200);
  EXPECT_GE(m[Url("/busy")]["elapsed_ms"].number, 900) << "waited for Retry-After";
}

TEST_F(FetchTest, BrokenResponsesAreClearErrors) {
  server_->Route("/cut", HttpResponse::Text(200, std::string(10000, 'x'))
                             .WithFault(HttpResponse::Fault::kCloseAfterBodyBytes, 100));
  server_->Route("/reset", HttpResponse::Reset());
  server_->Route("/garbage", HttpResponse::Raw("HTTP/1.1 2x0 OK\r\n\r\n"));
  server_->Route("/both", HttpResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                            "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  server_->Route("/bomb", HttpResponse::GzipBomb(64 << 20));
  Subprocess::Result r =
      RunFetch({"--output=jsonl", "--max_body_bytes=1000000", Url("/cut"), Url("/reset"),
                Url("/garbage"), Url("/both"), Url("/bomb")});
  EXPECT_EQ(r.exit_code, 1);
  auto m = ByUrl(r.out);
  EXPECT_EQ(ErrorCode(m[Url("/cut")]), "UNAVAILABLE") << r.out;
  EXPECT_EQ(ErrorCode(m[Url("/reset")]), "UNAVAILABLE") << r.out;
  EXPECT_EQ(ErrorCode(m[Url("/garbage")]), "DATA_LOSS") << r.out;
  EXPECT_EQ(ErrorCode(m[Url("/both")]), "DATA_LOSS") << r.out;
  EXPECT_EQ(ErrorCode(m[Url("/bomb")]), "RESOURCE_EXHAUSTED") << r.out;
}

TEST_F(FetchTest, GzipBodiesAreDecoded) {
  const std::string text(5000, 'z');
  server_->Route("/gz", HttpResponse::Text(200, text).WithEncoding(HttpResponse::Encoding::kGzip));
  server_->Route("/raw", HttpResponse::Text(200, text).WithEncoding(HttpResponse::Encoding::kRawDeflate));
  Subprocess::Result r = RunFetch({"--output=body", Url("/gz"), Url("/raw")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, text + "\n" + text + "\n");
}

TEST_F(FetchTest, OutputDirHoldsExactlyTheBodiesAndStaysInside) {
  char tmpl[] = "/tmp/corio_fetch_out_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = absl::StrCat(tmpl, "/sub");  // created by fetch
  const std::vector<std::string> urls = {
      Url("/page/a"), Url("/page/../../../../etc/x"), Url("/page/%2e%2e/%2e%2e/y"),
      Url("/page/a%2Fb%2F..%2F..%2Fz"), Url("/page/q?path=/etc/passwd&x=../../w")};
  std::vector<std::string> args = {"--output=jsonl", absl::StrCat("--output_dir=", dir)};
  for (const auto& u : urls) args.push_back(u);
  Subprocess::Result r = RunFetch(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), urls.size());
  for (JsonObject& o : lines) {
    ASSERT_EQ(o["file"].kind, testing::JsonValue::kString) << r.out;
    const std::string name = o["file"].str;
    EXPECT_EQ(name.find('/'), std::string::npos);
    std::ifstream f(absl::StrCat(dir, "/", name), std::ios::binary);
    std::stringstream content;
    content << f.rdbuf();
    // (Dot segments are resolved in the URL, so some of these are 404 pages: any body.)
    EXPECT_FALSE(content.str().empty()) << name;
    EXPECT_EQ(content.str().size(), static_cast<size_t>(o["bytes"].number));
    if (o["url"].str == Url("/page/a")) {
      EXPECT_EQ(content.str(), "page /page/a");
    }
  }
  // Nothing was written beside the directory.
  struct stat st;
  EXPECT_NE(stat(absl::StrCat(tmpl, "/x").c_str(), &st), 0);
  EXPECT_NE(stat("/tmp/w", &st), 0);
  std::string cleanup = absl::StrCat("rm -rf ", tmpl);
  EXPECT_EQ(std::system(cleanup.c_str()), 0);
}

TEST_F(FetchTest, ProgressBarOnATerminalOnly) {
  server_->RoutePrefix("/held/", HttpResponse::Text(200, "x").WithDelayBeforeHead(absl::Milliseconds(30)));
  std::vector<std::string> args = {g_fetch_path, "--output=jsonl", "--concurrency=4"};
  for (int i = 0; i < 60; ++i) args.push_back(Url(absl::StrCat("/held/", i)));
  Subprocess::Options tty;
  tty.stderr_is_terminal = true;
  tty.terminal_columns = 90;
  absl::StatusOr<Subprocess> p = Subprocess::Start(args, tty);
  ASSERT_TRUE(p.ok());
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/60")) << "done/total drawn";
  EXPECT_THAT(r.err, HasSubstr("/s")) << "rate drawn";
  EXPECT_THAT(r.err, HasSubstr("\r[")) << "redrawn in place";
  EXPECT_EQ(ParseJsonLines(r.out).size(), 60u) << "stdout stays clean";

  args.erase(args.begin());
  Subprocess::Result piped = RunFetch(args);
  EXPECT_EQ(piped.exit_code, 0);
  EXPECT_EQ(piped.err.find("\r"), std::string::npos) << "no bar when stderr is not a terminal";
}

TEST_F(FetchTest, UsageErrorsExit2WithOneLineAndAPointerToHelp) {
  const std::vector<std::vector<std::string>> kBad = {
      {"--concurrency=abc", Url("/hello")},
      {"--output=xml", Url("/hello")},
      {"--timeout=banana", Url("/hello")},
      {"--no-such-flag", Url("/hello")},
      {"--input=/nonexistent/urls.txt"},
  };
  for (const auto& args : kBad) {
    Subprocess::Result r = RunFetch(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_THAT(r.err, HasSubstr("--help")) << args[0];
    EXPECT_TRUE(r.out.empty()) << args[0];
    std::vector<std::string> lines = absl::StrSplit(r.err, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 2u) << r.err;
  }
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(FetchTest, HelpTeaches) {
  Subprocess::Result r = RunFetch({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Examples:"));
  EXPECT_THAT(r.out, HasSubstr("--output=jsonl"));
}

void InterruptMidRun(int sig, int expected_exit, FakeHttpServer& server) {
  server.RoutePrefix("/stuck/", HttpResponse::Stall());
  std::vector<std::string> args = {g_fetch_path, "--output=jsonl", "--concurrency=8"};
  for (int i = 0; i < 5; ++i) args.push_back(server.url(absl::StrCat("/page/", i)));
  for (int i = 0; i < 20; ++i) args.push_back(server.url(absl::StrCat("/stuck/", i)));
  absl::StatusOr<Subprocess> p = Subprocess::Start(args);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->WaitForLines(5, absl::Seconds(60)));
  // The stalled requests are in flight: wait until the server holds some, then interrupt.
  ASSERT_TRUE(server.WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight >= 3; }));
  p->Signal(sig);
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, expected_exit) << r.err;
  EXPECT_EQ(ParseJsonLines(r.out).size(), 5u) << "finished results are printed: " << r.out;
  EXPECT_THAT(r.err, HasSubstr("interrupted"));
  EXPECT_TRUE(server.WaitUntil([](const FakeHttpServer::Stats& s) { return s.connections_open == 0; }))
      << "in-flight requests were cancelled and their connections closed";
}

TEST_F(FetchTest, SigintCancelsInFlightPrintsFinishedAndExits130) {
  InterruptMidRun(SIGINT, 130, *server_);
}

TEST_F(FetchTest, SigtermExits143) { InterruptMidRun(SIGTERM, 143, *server_); }

class FetchTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = corio::testing::TlsCerts::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = std::make_unique<corio::testing::TlsCerts>(std::move(*certs));
    auto ctx = corio::tls::TlsContext::CreateServer(
        {.cert_pem = certs_->server().cert_pem, .key_pem = certs_->server().key_pem});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    FakeHttpServer::Options options;
    options.tls = *ctx;
    auto s = FakeHttpServer::StartInBackground(options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    server_->Route("/secret", HttpResponse::Text(200, "over tls"));
  }
  std::unique_ptr<corio::testing::TlsCerts> certs_;
  std::unique_ptr<FakeHttpServer> server_;
};

TEST_F(FetchTlsTest, VerificationIsOnByDefault) {
  const std::string url = server_->url("/secret");
  ASSERT_THAT(url, StartsWith("https://"));
  Subprocess::Result r = RunFetch({"--output=jsonl", url});
  EXPECT_EQ(r.exit_code, 1);
  JsonObject o = ByUrl(r.out)[url];
  EXPECT_EQ(ErrorCode(o), "UNAUTHENTICATED") << r.out;
  EXPECT_THAT(o["error"].str, HasSubstr("certificate")) << r.out;
}

TEST_F(FetchTlsTest, CacertTrustsAPrivateCa) {
  const std::string url = server_->url("/secret");
  Subprocess::Result r =
      RunFetch({"--output=body", absl::StrCat("--cacert=", certs_->ca_file()), url});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "over tls\n");
}

TEST_F(FetchTlsTest, InsecureSkipsVerification) {
  Subprocess::Result r = RunFetch({"--output=body", "--insecure", server_->url("/secret")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "over tls\n");
}

TEST_F(FetchTlsTest, MissingCacertFileIsAClearError) {
  Subprocess::Result r =
      RunFetch({"--output=jsonl", "--cacert=/nonexistent/ca.pem", server_->url("/secret")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out + r.err, HasSubstr("/nonexistent/ca.pem"));
}

TEST(FetchDemoTest, NoArgumentsRunsTheDemoWithNoNetwork) {
  Subprocess::Result r = RunFetch({});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 301u) << r.err;
  EXPECT_THAT(lines.back(), StartsWith("300 URLs: 300 ok (299 2xx, 1 4xx), 0 failed"));
  EXPECT_THAT(r.err, HasSubstr("--demo"));
}

TEST(FetchDemoTest, DemoInJsonl) {
  Subprocess::Result r = RunFetch({"--demo", "--output=jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<JsonObject> lines = ParseJsonLines(r.out);
  ASSERT_EQ(lines.size(), 300u);
  int redirected = 0;
  for (JsonObject& o : lines) {
    EXPECT_GT(Status(o), 0);
    if (o["redirects"].number > 0) ++redirected;
  }
  EXPECT_GE(redirected, 1);
}

TEST_F(FetchTest, LongInputRunsInFlatMemory) {
  const int n = kSanitized ? 5000 : 100000;
  std::string list;
  list.reserve(static_cast<size_t>(n) * 40);
  for (int i = 0; i < n; ++i) list += Url(absl::StrCat("/page/", i)) + "\n";
  absl::StatusOr<Subprocess> p =
      Subprocess::Start({g_fetch_path, "--output=jsonl", "--input=-", "--concurrency=32"});
  ASSERT_TRUE(p.ok());
  p->FeedStdinAndClose(std::move(list));
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), n);
  if (!kSanitized) {
    EXPECT_LT(r.max_rss_kib, 64 * 1024) << "peak RSS in KiB for " << n << " URLs";
  }
}

}  // namespace
}  // namespace corio::fetch_cmd

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fetch_test PATH_TO_FETCH\n");
    return 2;
  }
  corio::fetch_cmd::g_fetch_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
