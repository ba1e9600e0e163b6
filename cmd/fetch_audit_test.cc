// End-to-end regression tests from the audit of the fetch command against its contract
// (issue 12, DESIGN.md "The fetch command"): the built binary, run as a user runs it, against
// in-process fake servers on loopback.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cmd/fetch_cmd/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_server.h"

namespace corio::fetch_cmd {
namespace {

using ::corio::fetch_cmd::testing::JsonObject;
using ::corio::fetch_cmd::testing::ParseJsonLines;
using ::corio::fetch_cmd::testing::Subprocess;
using ::corio::testing::FakeHttpServer;
using ::corio::testing::HttpResponse;
using ::testing::HasSubstr;

std::string g_fetch_path;

Subprocess::Result RunFetch(std::vector<std::string> args, const std::string& stdin_data = "") {
  args.insert(args.begin(), g_fetch_path);
  absl::StatusOr<Subprocess> p = Subprocess::Start(args);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!stdin_data.empty()) p->FeedStdinAndClose(stdin_data);
  return p->Wait();
}

// Waits (without reaping it, and without reading its output) until the child exits; false if
// it is still running after `limit` (a hang).
bool ExitsWithin(pid_t pid, absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class FetchAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = FakeHttpServer::StartInBackground();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    server_->RoutePrefix("/p/", HttpResponse::Text(200, "page"));
  }
  std::unique_ptr<FakeHttpServer> server_;
};

// Contract: "SIGINT/SIGTERM stop cleanly ... exit 130 / 143". Before the fix, a stop signal
// was not even read while the output was blocked on a stdout nobody reads (`fetch | sleep`):
// the run hung until the reader read or died.
TEST_F(FetchAuditTest, StopSignalEndsARunWhoseStdoutIsNotRead) {
  std::string list;
  const std::string long_path(2000, 'x');
  for (int i = 0; i < 3000; ++i) list += server_->url(absl::StrCat("/p/", i, long_path)) + "\n";
  absl::StatusOr<Subprocess> p =
      Subprocess::Start({g_fetch_path, "--output=jsonl", "--input=-", "--concurrency=8"});
  ASSERT_TRUE(p.ok()) << p.status();
  p->FeedStdinAndClose(std::move(list));
  // Let the pipe fill: the child is then held up by its stdout.
  const int fd = p->stdout_fd();
  const int capacity = fcntl(fd, F_GETPIPE_SZ);
  ASSERT_GT(capacity, 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int queued = 0;
  while (absl::Now() < deadline) {
    ASSERT_EQ(ioctl(fd, FIONREAD, &queued), 0);
    if (queued >= capacity - 8192) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(queued, capacity - 8192) << "the child never filled its stdout";
  p->Signal(SIGTERM);
  EXPECT_TRUE(ExitsWithin(p->pid(), absl::Seconds(30)))
      << "SIGTERM did not stop a run blocked on its stdout";
  Subprocess::Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream content;
  content << f.rdbuf();
  return content.str();
}

// Contract: "--output_dir=DIR: one file per URL holding exactly the decoded body; ... no URL
// writes outside DIR". Names are predictable (index + URL), so someone who can write in DIR can
// plant a hard link (or a symlink) under the next run's name. Before the fix, a planted hard
// link made fetch truncate and overwrite the linked file outside DIR (O_TRUNC on the existing
// entry); a planted symlink failed the URL. Now each body is written to a fresh temporary file
// and renamed over the name: the outside files keep their contents, DIR holds the bodies.
TEST_F(FetchAuditTest, OutputDirNeverWritesThroughPlantedLinks) {
  char tmpl[] = "/tmp/corio_fetch_links_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string base = tmpl;
  const std::string dir = base + "/out";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const std::string outside_hard = base + "/precious_hard";
  const std::string outside_sym = base + "/precious_sym";
  for (const std::string& f : {outside_hard, outside_sym}) {
    std::ofstream(f) << "PRECIOUS";
  }
  server_->Route("/a", HttpResponse::Text(200, "body a"));
  server_->Route("/b", HttpResponse::Text(200, "body b"));
  const std::string url_a = server_->url("/a");
  const std::string url_b = server_->url("/b");
  // First run: learn the names.
  Subprocess::Result first =
      RunFetch({"--output=jsonl", absl::StrCat("--output_dir=", dir), url_a, url_b});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::map<std::string, std::string> file_of;
  for (JsonObject& o : ParseJsonLines(first.out)) file_of[o["url"].str] = o["file"].str;
  ASSERT_EQ(file_of.size(), 2u) << first.out;
  const std::string name_a = dir + "/" + file_of[url_a];
  const std::string name_b = dir + "/" + file_of[url_b];
  // Plant the links under those names.
  ASSERT_EQ(unlink(name_a.c_str()), 0);
  ASSERT_EQ(unlink(name_b.c_str()), 0);
  ASSERT_EQ(link(outside_hard.c_str(), name_a.c_str()), 0);
  ASSERT_EQ(symlink(outside_sym.c_str(), name_b.c_str()), 0);
  Subprocess::Result second =
      RunFetch({"--output=jsonl", absl::StrCat("--output_dir=", dir), url_a, url_b});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(ReadFile(outside_hard), "PRECIOUS") << "written through a planted hard link";
  EXPECT_EQ(ReadFile(outside_sym), "PRECIOUS") << "written through a planted symlink";
  EXPECT_EQ(ReadFile(name_a), "body a");
  EXPECT_EQ(ReadFile(name_b), "body b");
  std::string cleanup = absl::StrCat("rm -rf ", base);
  EXPECT_EQ(std::system(cleanup.c_str()), 0);
}

// Contract: "A usage error ... prints one clear line plus a pointer to --help on stderr and
// exits 2". Before the fix: a missing --cacert failed every https URL (exit 1) and an http-only
// run succeeded; --input= ran the demo; an --output_dir whose parent is missing exited 1
// without the pointer to --help; a value holding a newline printed a usage error of 3 lines.
TEST_F(FetchAuditTest, MoreUsageErrorsExit2WithOneLineAndAPointerToHelp) {
  const std::string url = server_->url("/p/1");
  const std::vector<std::vector<std::string>> kBad = {
      {"--cacert=/nonexistent/ca.pem", url},
      {"--cacert=/", url},
      {"--input="},
      {"--output_dir=/nonexistent/deep/dir", url},
      {"--output=a\nb", url},
      {"--no-such\nflag", url},
  };
  for (const auto& args : kBad) {
    Subprocess::Result r = RunFetch(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_TRUE(r.out.empty()) << args[0] << ": " << r.out.substr(0, 300);
    std::vector<std::string> lines = absl::StrSplit(r.err, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 2u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--help")) << args[0];
  }
  EXPECT_EQ(server_->requests(), 0);
}

}  // namespace
}  // namespace corio::fetch_cmd

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fetch_audit_test PATH_TO_FETCH\n");
    return 2;
  }
  corio::fetch_cmd::g_fetch_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
