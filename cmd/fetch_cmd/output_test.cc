#include "cmd/fetch_cmd/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::fetch_cmd {
namespace {

using ::testing::HasSubstr;

// A temp file to write to, read back whole.
class TempFd {
 public:
  TempFd() {
    char path[] = "/tmp/corio_output_test_XXXXXX";
    fd_ = mkstemp(path);
    unlink(path);
  }
  ~TempFd() { close(fd_); }
  int fd() const { return fd_; }
  std::string Contents() const {
    std::string out;
    char buf[4096];
    for (off_t off = 0;;) {
      ssize_t n = pread(fd_, buf, sizeof(buf), off);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_;
};

FetchResult Ok(uint64_t index, std::string body) {
  FetchResult r;
  r.index = index;
  r.url = "http://h/" + std::to_string(index);
  r.status = 200;
  r.final_url = r.url;
  r.bytes = body.size();
  r.body = std::move(body);
  return r;
}

TEST(OutputTest, JsonlOneLinePerResultInCompletionOrder) {
  TempFd out, err;
  Output o(OutputMode::kJsonl, false, out.fd(), err.fd());
  o.Emit(Ok(1, "x"));
  o.Emit(Ok(0, "yy"));
  o.Flush();
  const std::string text = out.Contents();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_LT(text.find("http://h/1"), text.find("http://h/0"));
  EXPECT_EQ(o.totals().ok, 2u);
  EXPECT_EQ(o.totals().bytes, 3u);
}

TEST(OutputTest, BodiesInInputOrderWhateverTheCompletionOrder) {
  TempFd out, err;
  Output o(OutputMode::kBody, false, out.fd(), err.fd());
  o.Emit(Ok(2, "two"));
  o.Emit(Ok(1, "one\n"));
  EXPECT_EQ(o.written_upto(), 0u);
  FetchResult failed;
  failed.index = 3;
  failed.url = "http://h/3";
  failed.error = absl::NotFoundError("dns: no such host");
  o.Emit(failed);
  o.Emit(Ok(0, "zero"));
  EXPECT_EQ(o.written_upto(), 4u);
  o.Flush();
  EXPECT_EQ(out.Contents(), "zero\none\ntwo\n");
  EXPECT_THAT(err.Contents(), HasSubstr("http://h/3: NOT_FOUND: dns: no such host"));
}

TEST(OutputTest, FlushWaitingWritesWhatFinishedAfterAGap) {
  TempFd out, err;
  Output o(OutputMode::kBody, false, out.fd(), err.fd());
  o.Emit(Ok(0, "a"));
  o.Emit(Ok(2, "c"));  // 1 was cancelled and never comes
  o.Emit(Ok(4, "e"));
  o.FlushWaiting();
  EXPECT_EQ(out.Contents(), "a\nc\ne\n");
}

TEST(OutputTest, ConcurrentEmitsAreAllCounted) {
  TempFd out, err;
  Output o(OutputMode::kSummary, false, out.fd(), err.fd());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&o, t] {
      for (int i = 0; i < 1000; ++i) o.Emit(Ok(static_cast<uint64_t>(t * 1000 + i), "b"));
    });
  }
  for (auto& t : threads) t.join();
  o.Flush();
  const std::string text = out.Contents();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4000);
  EXPECT_EQ(o.totals().done, 4000u);
}

TEST(OutputTest, WriteErrorIsStickyAndNamed) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  Output o(OutputMode::kSummary, false, fds[1], fds[1]);
  o.Emit(Ok(0, "x"));
  o.Flush();
  EXPECT_FALSE(o.write_error().ok());
  EXPECT_THAT(std::string(o.write_error().message()), HasSubstr("stdout"));
  close(fds[1]);
}

// A reader that stops reading holds writes up, but an interrupted run must still end: after
// Interrupt(), a write stuck on a full pipe gives up (a sticky write error) instead of blocking
// the run — and the thread doing it — forever.
TEST(OutputTest, InterruptUnblocksAWriteToAPipeNobodyReads) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // Fill the pipe.
  ASSERT_EQ(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
  const std::string chunk(4096, 'f');
  while (write(fds[1], chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(fcntl(fds[1], F_SETFL, 0), 0);
  TempFd err;
  Output o(OutputMode::kJsonl, false, fds[1], err.fd());
  std::thread writer([&] {
    o.Emit(Ok(0, "x"));
    o.Flush();  // blocks: nobody reads the pipe
  });
  o.Interrupt();  // from another thread, whether or not the writer is blocked yet
  writer.join();  // without the fix: never returns
  EXPECT_FALSE(o.write_error().ok());
  EXPECT_THAT(std::string(o.write_error().message()), HasSubstr("interrupted"));
  o.Emit(Ok(1, "y"));  // later output is dropped, at once
  o.Flush();
  close(fds[0]);
  close(fds[1]);
}

// Before any interrupt, a slow reader is waited for: nothing is dropped.
TEST(OutputTest, ASlowReaderGetsEverything) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  TempFd err;
  Output o(OutputMode::kSummary, false, fds[1], err.fd());
  std::thread writer([&] {
    for (int i = 0; i < 5000; ++i) o.Emit(Ok(static_cast<uint64_t>(i), "body"));
    o.Flush();
    close(fds[1]);
  });
  std::string got;
  char buf[1000];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  writer.join();
  close(fds[0]);
  EXPECT_TRUE(o.write_error().ok()) << o.write_error();
  EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 5000);
}

}  // namespace
}  // namespace corio::fetch_cmd
