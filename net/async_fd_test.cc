// AsyncFd: readiness waits, deadlines, cancellation, close while waiting (also after a wake-up
// was scheduled), moving an AsyncFd while a task waits on it, and the fd closed exactly once
// when registering it fails.
#include "net/async_fd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tasks/run.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

// Counts close() calls on one fd number (this test binary's close() forwards to the syscall).
namespace {
std::atomic<int> g_watched_fd{-1};
std::atomic<int> g_closes_of_watched{0};
}  // namespace

extern "C" int close(int fd) {
  if (fd >= 0 && fd == g_watched_fd.load()) g_closes_of_watched.fetch_add(1);
  return static_cast<int>(syscall(SYS_close, fd));
}

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;

class AsyncFdTest : public testing::FdLeakCheck {};

struct Pair {
  int a = -1;
  int b = -1;
};
Pair SocketPair() {
  int sv[2];
  CORIO_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  return Pair{sv[0], sv[1]};
}

// Waits once; touches `fd` only to start the wait (as a task watching a pooled stream does).
Task<absl::Status> WaitReadable(AsyncFd* fd) { co_return co_await fd->Readable(); }

TEST_F(AsyncFdTest, RunsOnThePollerTheBuildAsksFor) {
  // The *_uring variants of net's tests set CORIO_LOOP_BACKEND=io_uring.
  const char* env = std::getenv("CORIO_LOOP_BACKEND");
  const std::string want = env != nullptr && std::string(env) == "io_uring" ? "io_uring" : "epoll";
  auto main = []() -> Task<std::string> { co_return EventLoop::Current()->backend_name(); };
  EXPECT_THAT(RunTask(main()), testing::IsOkAndHolds(want));
}

TEST_F(AsyncFdTest, ReadableResumesWhenDataArrives) {
  auto main = []() -> Task<absl::Status> {
    Pair p = SocketPair();
    absl::StatusOr<AsyncFd> fd = AsyncFd::Create(p.a);
    if (!fd.ok()) co_return fd.status();
    JoinHandle<absl::Status> w = Spawn(WaitReadable(&*fd));
    (void)co_await Yield();
    EXPECT_EQ(write(p.b, "x", 1), 1);
    absl::Status s = co_await std::move(w);
    close(p.b);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(AsyncFdTest, MovingTheAsyncFdWhileATaskWaitsIsHarmless) {
  // Issue 10 #1: the waiter used to hold `AsyncFd&`; a vector that grows moves its elements.
  auto main = []() -> Task<absl::Status> {
    Pair p = SocketPair();
    Pair q = SocketPair();
    Pair r = SocketPair();
    std::vector<AsyncFd> fds;
    fds.reserve(1);
    fds.push_back(*AsyncFd::Create(p.a));
    JoinHandle<absl::Status> w = Spawn(WaitReadable(&fds[0]));
    (void)co_await Yield();                // the waiter is suspended on fds[0]
    fds.push_back(*AsyncFd::Create(q.a));  // reallocates: fds[0] moves
    fds.push_back(*AsyncFd::Create(r.a));
    EXPECT_EQ(write(p.b, "x", 1), 1);
    absl::Status s = co_await std::move(w);
    close(p.b);
    close(q.b);
    close(r.b);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(AsyncFdTest, ClosingWhileATaskWaitsResumesItWithCancelled) {
  auto main = []() -> Task<absl::Status> {
    Pair p = SocketPair();
    auto fd = std::make_unique<AsyncFd>(*AsyncFd::Create(p.a));
    JoinHandle<absl::Status> w = Spawn(WaitReadable(fd.get()));
    (void)co_await Yield();
    fd.reset();
    absl::Status s = co_await std::move(w);
    close(p.b);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(AsyncFdTest, ClosingAfterTheWakeUpWasScheduledStillSaysCancelled) {
  // A task whose resumption is already queued must not find the AsyncFd gone and take OK for
  // an answer: the close turns the scheduled OK into CANCELLED.
  auto main = []() -> Task<absl::Status> {
    Pair p = SocketPair();
    auto fd = std::make_unique<AsyncFd>(*AsyncFd::Create(p.a));
    auto yielder = [](AsyncFd* f) -> Task<absl::Status> { co_return co_await f->Yield(0); };
    JoinHandle<absl::Status> w = Spawn(yielder(fd.get()));
    (void)co_await Yield();  // the yielder ran: its resumption is queued behind ours
    fd.reset();
    absl::Status s = co_await std::move(w);
    close(p.b);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(AsyncFdTest, DeadlinesAndCancellation) {
  auto main = []() -> Task<absl::Status> {
    Pair p = SocketPair();
    AsyncFd fd = *AsyncFd::Create(p.a);
    const absl::Time start = EventLoop::Current()->Now();
    absl::Status late = co_await fd.Readable(start + absl::Seconds(2));
    EXPECT_THAT(late, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(2));
    // Data before the deadline wins.
    EXPECT_EQ(write(p.b, "x", 1), 1);
    absl::Status in_time = co_await fd.Readable(EventLoop::Current()->Now() + absl::Seconds(2));
    EXPECT_THAT(in_time, IsOk());
    // Cancellation.
    fd.ClearReadable();
    char c;
    EXPECT_EQ(read(p.a, &c, 1), 1);
    JoinHandle<absl::Status> w = Spawn(WaitReadable(&fd));
    (void)co_await Sleep(absl::Seconds(1));
    w.Cancel();
    absl::Status cancelled = co_await std::move(w);
    EXPECT_THAT(cancelled, StatusIs(absl::StatusCode::kCancelled));
    // A second waiter in one direction is refused, not silently swapped in.
    JoinHandle<absl::Status> first = Spawn(WaitReadable(&fd));
    (void)co_await Yield();
    absl::Status second = co_await fd.Readable();
    EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(write(p.b, "y", 1), 1);
    absl::Status s = co_await std::move(first);
    close(p.b);
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(AsyncFdTest, CreateClosesTheFdExactlyOnceWhenRegistrationFails) {
  // Issue 10 #2: epoll refuses /dev/null (EPERM); Create used to close the fd, and then its
  // local AsyncFd closed the same number again (another thread may own it by then).
  EventLoop::Options options;
  options.backend = EventLoop::Backend::kEpoll;
  auto loop = EventLoop::Create(std::move(options));
  ASSERT_THAT(loop.status(), IsOk());
  auto main = []() -> Task<absl::Status> {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) co_return absl::InternalError("open /dev/null");
    g_watched_fd = fd;
    g_closes_of_watched = 0;
    absl::StatusOr<AsyncFd> a = AsyncFd::Create(fd);
    g_watched_fd = -1;
    EXPECT_EQ(g_closes_of_watched.load(), 1);
    co_return a.status();
  };
  EXPECT_THAT(corio::Run(**loop, main()), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace corio
