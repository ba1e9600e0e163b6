// A signal handler running on another thread must never write into a file descriptor that
// was closed (and its number reused) while it ran. This test holds the handler between
// reading the fd it will write to and the write itself (write(2) is interposed for this test
// binary), tears the loop's signal handling down meanwhile, and gives the fd's number to a new
// pipe if it was closed: the held write must not land there.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "testing/status_matchers.h"

namespace {

std::atomic<int> g_hold_byte{0};  // hold a 1-byte write of this value (a signal number)
std::atomic<int> g_held_fd{-1};
std::atomic<bool> g_release{false};

}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  const int hold = g_hold_byte.load();
  if (hold != 0 && n == 1 && *static_cast<const unsigned char*>(buf) == hold) {
    g_held_fd.store(fd);
    while (!g_release.load()) sched_yield();  // async-signal-safe
  }
  return syscall(SYS_write, fd, buf, n);
}

namespace corio {
namespace {

using ::corio::testing::IsOk;

TEST(SignalRaceTest, AHeldHandlerNeverWritesIntoAReusedFd) {
  auto loop = EventLoop::Create().value();
  ASSERT_THAT(loop->AddSignalHandler(SIGUSR2, [] {}), IsOk());
  const int stop_fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(stop_fd, 0);
  std::atomic<bool> ready{false};
  // The signal is delivered to this thread, which does nothing but wait.
  std::thread receiver([&] {
    ready = true;
    pollfd pfd{stop_fd, POLLIN, 0};
    while (poll(&pfd, 1, -1) != 1) {
    }
  });
  while (!ready.load()) std::this_thread::yield();
  g_hold_byte = SIGUSR2;
  ASSERT_EQ(pthread_kill(receiver.native_handle(), SIGUSR2), 0);
  while (g_held_fd.load() < 0) std::this_thread::yield();  // the handler is in write()
  const int fd = g_held_fd.load();

  ASSERT_THAT(loop->RemoveSignalHandler(SIGUSR2), IsOk());
  loop.reset();
  int pipe_fds[2] = {-1, -1};
  const bool closed = fcntl(fd, F_GETFD) == -1 && errno == EBADF;
  if (closed) {  // what any other thread could do: a new file gets the number
    ASSERT_EQ(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
    ASSERT_EQ(dup2(pipe_fds[1], fd), fd);
  }
  g_release = true;  // the handler writes now
  const uint64_t one = 1;
  ASSERT_EQ(::write(stop_fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  receiver.join();
  g_hold_byte = 0;
  EXPECT_FALSE(closed) << "the fd a signal handler writes to was closed while it could run";
  if (closed) {
    char c;
    EXPECT_EQ(read(pipe_fds[0], &c, 1), -1) << "the signal's byte landed in an unrelated file";
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    close(fd);
  }
  close(stop_fd);
}

TEST(SignalRaceTest, ASignalMovesBetweenLoopsAndStaleArrivalsAreDropped) {
  auto a = EventLoop::Create().value();
  int a_calls = 0;
  ASSERT_THAT(a->AddSignalHandler(SIGUSR2, [&] { ++a_calls; }), IsOk());
  ASSERT_EQ(raise(SIGUSR2), 0);  // arrives while `a` handles it, but `a` never runs
  ASSERT_THAT(a->RemoveSignalHandler(SIGUSR2), IsOk());
  auto b = EventLoop::Create().value();
  int b_calls = 0;
  ASSERT_THAT(b->AddSignalHandler(SIGUSR2, [&] { ++b_calls; }), IsOk());
  ASSERT_THAT(b->RunUntilIdle(), IsOk());
  EXPECT_EQ(b_calls, 0);  // the earlier arrival was a's
  ASSERT_EQ(raise(SIGUSR2), 0);
  ASSERT_THAT(b->RunUntil([&] { return b_calls == 1; }), IsOk());
  EXPECT_EQ(a_calls, 0);
}

}  // namespace
}  // namespace corio
