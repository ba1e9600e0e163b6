// EventLoop conformance suite, run on every backend (epoll, io_uring).
#include "loop/event_loop.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/virtual_clock.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::corio::testing::VirtualClock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EventLoopTest : public ::testing::TestWithParam<EventLoop::Backend> {
 protected:
  std::unique_ptr<EventLoop> NewLoop(Clock* clock = nullptr) {
    EventLoop::Options options;
    options.backend = GetParam();
    options.clock = clock;
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(std::move(options));
    EXPECT_THAT(loop, IsOk());
    return loop.ok() ? *std::move(loop) : nullptr;
  }

  void SetUp() override {
    loop_ = NewLoop(&clock_);
    ASSERT_NE(loop_, nullptr);
  }

  VirtualClock clock_;
  std::unique_ptr<EventLoop> loop_;
};

struct SocketPair {
  SocketPair() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0);
  }
  ~SocketPair() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
  void Send(const char* s) { EXPECT_GT(write(fd[1], s, strlen(s)), 0); }
  int fd[2] = {-1, -1};
};

// --- callbacks ------------------------------------------------------------------------------

TEST_P(EventLoopTest, CallSoonRunsInFifoOrderAndNeverInline) {
  std::vector<int> order;
  loop_->CallSoon([&] {
    order.push_back(1);
    loop_->CallSoon([&] { order.push_back(4); });
    order.push_back(2);  // the nested CallSoon did not run inline
  });
  loop_->CallSoon([&] { order.push_back(3); });
  EXPECT_TRUE(order.empty());
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_THAT(order, ElementsAre(1, 2, 3, 4));
}

TEST_P(EventLoopTest, StopEndsRunAfterTheCurrentTurn) {
  int after = 0;
  loop_->CallSoon([&] { loop_->Stop(); });
  loop_->CallSoon([&] { ++after; });  // same turn: still runs
  ASSERT_THAT(loop_->Run(), IsOk());
  EXPECT_EQ(after, 1);
  EXPECT_FALSE(loop_->is_running());
  // A Stop() before Run() makes Run() return after one turn.
  loop_->Stop();
  ASSERT_THAT(loop_->Run(), IsOk());
}

TEST_P(EventLoopTest, RunUntilChecksItsConditionAfterEachTurn) {
  int n = 0;
  std::function<void()> step = [&] {
    if (++n < 10) loop_->CallSoon([&] { step(); });
  };
  loop_->CallSoon([&] { step(); });
  ASSERT_THAT(loop_->RunUntil([&] { return n >= 10; }), IsOk());
  EXPECT_EQ(n, 10);
  ASSERT_THAT(loop_->RunUntil([] { return true; }), IsOk());  // already done: no turn at all
}

TEST_P(EventLoopTest, ReentrantRunAndNestedLoopsAreRefused) {
  absl::Status inner;
  absl::Status other_loop;
  std::unique_ptr<EventLoop> other = NewLoop();
  loop_->CallSoon([&] {
    inner = loop_->RunUntilIdle();
    other_loop = other->RunUntilIdle();
    EXPECT_EQ(EventLoop::Current(), loop_.get());
  });
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_THAT(inner, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already running")));
  EXPECT_THAT(other_loop,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another loop")));
  EXPECT_EQ(EventLoop::Current(), nullptr);
}

TEST_P(EventLoopTest, ExceptionsInCallbacksAreReportedAndTheLoopGoesOn) {
  std::vector<absl::Status> errors;
  loop_->SetErrorHandler([&](const absl::Status& s) { errors.push_back(s); });
  int ran = 0;
  loop_->CallSoon([] { throw std::runtime_error("boom"); });
  loop_->CallSoon([&] { ++ran; });
  loop_->CallLater(absl::Seconds(1), [] { throw 42; });
  ASSERT_THAT(loop_->RunUntil([&] { return errors.size() == 2; }), IsOk());
  EXPECT_EQ(ran, 1);
  EXPECT_THAT(errors[0], StatusIs(absl::StatusCode::kInternal, HasSubstr("runtime_error: boom")));
  EXPECT_THAT(errors[1], StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown exception")));
}

TEST_P(EventLoopTest, DestroyingALoopDestroysPendingWorkUnrun) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  {
    std::unique_ptr<EventLoop> loop = NewLoop();
    loop->CallSoon([t = token] { ++*t; });
    loop->CallLater(absl::Hours(1), [t = token] { ++*t; });
    loop->CallSoonThreadSafe([t = token] { ++*t; });
    struct Local {
      std::shared_ptr<int> t;
    };
    loop->Local<Local>().t = token;
    token.reset();
  }
  EXPECT_TRUE(weak.expired());
}

TEST_P(EventLoopTest, LocalStateIsOnePerLoopAndType) {
  struct Counter {
    int n = 0;
  };
  ++loop_->Local<Counter>().n;
  ++loop_->Local<Counter>().n;
  EXPECT_EQ(loop_->Local<Counter>().n, 2);
  std::unique_ptr<EventLoop> other = NewLoop();
  EXPECT_EQ(other->Local<Counter>().n, 0);
}

TEST_P(EventLoopTest, LocalWithAFallibleFactoryStoresNothingOnError) {
  struct Service {
    explicit Service(int v) : value(v) {}
    int value;
  };
  int calls = 0;
  absl::StatusOr<Service*> failed =
      loop_->Local<Service>([&]() -> absl::StatusOr<std::unique_ptr<Service>> {
        ++calls;
        return absl::UnavailableError("no config");
      });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable, "no config"));
  EXPECT_EQ(loop_->FindLocal<Service>(), nullptr);
  auto make = [&]() -> absl::StatusOr<std::unique_ptr<Service>> {
    ++calls;
    return std::make_unique<Service>(7);
  };
  CORIO_ASSERT_OK_AND_ASSIGN(Service * made, loop_->Local<Service>(make));
  EXPECT_EQ(made->value, 7);
  CORIO_ASSERT_OK_AND_ASSIGN(Service * again, loop_->Local<Service>(make));
  EXPECT_EQ(again, made);  // created once per loop
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(loop_->FindLocal<Service>(), made);
  // A factory may also return the value itself.
  struct Plain {
    int v = 0;
  };
  CORIO_ASSERT_OK_AND_ASSIGN(
      Plain * plain, loop_->Local<Plain>([]() -> absl::StatusOr<Plain> { return Plain{3}; }));
  EXPECT_EQ(plain->v, 3);
}

TEST_P(EventLoopTest, SlowCallbacksAreReportedInDebugMode) {
  EventLoop::Options options;
  options.backend = GetParam();
  options.slow_callback_threshold = absl::Milliseconds(1);
  std::vector<std::string> reports;
  options.on_slow_callback = [&](absl::Duration took, const char* type) {
    EXPECT_GE(took, absl::Milliseconds(1));
    reports.push_back(type);
  };
  CORIO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLoop> loop,
                             EventLoop::Create(std::move(options)));
  struct BlocksTheLoop {
    void operator()() const {
      // Deliberately blocks (what is being detected): a CPU-bound stretch, not a wait.
      const absl::Time until = absl::Now() + absl::Milliseconds(3);
      while (absl::Now() < until) {
      }
    }
  };
  loop->CallSoon(BlocksTheLoop{});
  loop->CallSoon([] {});
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], HasSubstr("BlocksTheLoop"));
}

// --- timers ---------------------------------------------------------------------------------

TEST_P(EventLoopTest, TimersFireInDeadlineOrderOnVirtualTime) {
  const absl::Time start = loop_->Now();
  std::vector<std::pair<int, absl::Duration>> fired;
  auto at = [&](int id) { return [&, id] { fired.push_back({id, loop_->Now() - start}); }; };
  loop_->CallLater(absl::Seconds(3), at(3));
  loop_->CallLater(absl::Seconds(1), at(1));
  loop_->CallLater(absl::Seconds(2), at(2));
  loop_->CallLater(absl::Seconds(1), at(11));  // same deadline: FIFO
  loop_->CallAt(start + absl::Hours(1), [&] { loop_->Stop(); });
  ASSERT_THAT(loop_->Run(), IsOk());
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[0], std::make_pair(1, absl::Seconds(1)));
  EXPECT_EQ(fired[1], std::make_pair(11, absl::Seconds(1)));
  EXPECT_EQ(fired[2], std::make_pair(2, absl::Seconds(2)));
  EXPECT_EQ(fired[3], std::make_pair(3, absl::Seconds(3)));
  EXPECT_EQ(loop_->Now() - start, absl::Hours(1));
}

TEST_P(EventLoopTest, RunUntilIdleNeverAdvancesVirtualTime) {
  int fired = 0;
  loop_->CallLater(absl::Seconds(5), [&] { ++fired; });
  const absl::Time start = loop_->Now();
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(loop_->Now(), start);
  clock_.Advance(absl::Seconds(5));
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(fired, 1);
}

TEST_P(EventLoopTest, CancelFromCallbacksAndReentrantTimers) {
  int a = 0, b = 0, c = 0;
  TimerHandle hb = loop_->CallLater(absl::Seconds(2), [&] { ++b; });
  loop_->CallLater(absl::Seconds(1), [&] {
    ++a;
    EXPECT_TRUE(hb.Cancel());
    EXPECT_FALSE(hb.Cancel());
    // A zero-delay timer added by a timer runs on a later turn, not in a loop forever.
    loop_->CallLater(absl::ZeroDuration(), [&] { ++c; });
  });
  TimerHandle hd = loop_->CallLater(absl::Seconds(3), [&] { loop_->Stop(); });
  EXPECT_TRUE(hd.pending());
  ASSERT_THAT(loop_->Run(), IsOk());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(c, 1);
  EXPECT_FALSE(hd.pending());
  EXPECT_FALSE(TimerHandle().Cancel());
}

TEST_P(EventLoopTest, ZeroDelayTimerChainUnderAFrozenClockStillYields) {
  clock_.SetAutoAdvance(false);
  int n = 0;
  std::function<void()> again = [&] {
    if (++n < 1000) loop_->CallLater(absl::ZeroDuration(), [&] { again(); });
  };
  loop_->CallLater(absl::ZeroDuration(), [&] { again(); });
  int soon = 0;
  loop_->CallSoon([&] { ++soon; });
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(n, 1000);
  EXPECT_EQ(soon, 1);
}

TEST_P(EventLoopTest, RealTimersNeverFireEarly) {
  std::unique_ptr<EventLoop> loop = NewLoop();  // system clock
  const absl::Time start = loop->Now();
  absl::Time fired;
  loop->CallLater(absl::Milliseconds(5), [&] {
    fired = loop->Now();
    loop->Stop();
  });
  ASSERT_THAT(loop->Run(), IsOk());
  EXPECT_GE(fired - start, absl::Milliseconds(5));
}

// --- cross-thread ---------------------------------------------------------------------------

TEST_P(EventLoopTest, CallSoonThreadSafeFromManyThreads) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  int count = 0;  // only touched on the loop thread
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        loop->CallSoonThreadSafe([&] {
          if (++count == kThreads * kEach) loop->Stop();
        });
      }
    });
  }
  ASSERT_THAT(loop->Run(), IsOk());  // sleeps in the poller between bursts; woken each time
  for (auto& t : threads) t.join();
  EXPECT_EQ(count, kThreads * kEach);
}

TEST_P(EventLoopTest, StopFromAnotherThreadWakesASleepingLoop) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  std::atomic<bool> started{false};
  loop->CallSoon([&] { started = true; });
  std::thread stopper([&] {
    while (!started.load()) std::this_thread::yield();
    loop->Stop();
  });
  ASSERT_THAT(loop->Run(), IsOk());  // nothing else to do: blocks in the poller until Stop()
  stopper.join();
}

// The loop's own thread destroys it as soon as Run() returns, which can be before the
// posting thread's CallSoonThreadSafe() or Stop() has returned (a TSan/ASan failure before the
// shared part was kept alive across the wake-up).
TEST_P(EventLoopTest, ALoopMayBeDestroyedRightAfterAnotherThreadStopsIt) {
  // io_uring rings are released by the kernel asynchronously: a few rounds, or creation runs
  // into the locked-memory limit.
  const int rounds = GetParam() == EventLoop::Backend::kIoUring ? 16 : 200;
  for (int round = 0; round < rounds; ++round) {
    std::unique_ptr<EventLoop> owned = NewLoop();
    ASSERT_NE(owned, nullptr);
    EventLoop* loop = owned.get();
    std::atomic<bool> running{false};
    std::thread owner([&running, owned = std::move(owned)]() mutable {
      owned->CallSoon([&running] { running.store(true); });
      EXPECT_THAT(owned->Run(), IsOk());
      owned.reset();  // at once, while the other thread may still be inside its call
    });
    while (!running.load()) std::this_thread::yield();
    if (round % 2 == 0) {
      loop->CallSoonThreadSafe([loop] { loop->Stop(); });
    } else {
      loop->Stop();
    }
    owner.join();
  }
}

TEST_P(EventLoopTest, CallSoonThreadSafeWhileStoppedRunsOnTheNextRun) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  int ran = 0;
  std::thread([&] { loop->CallSoonThreadSafe([&] { ++ran; }); }).join();
  EXPECT_EQ(ran, 0);
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_EQ(ran, 1);
}

TEST_P(EventLoopTest, LoopHandlePostsFromAnyThreadAndFailsOnceTheLoopIsGone) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  LoopHandle handle = loop->handle();
  int ran = 0;
  bool posted = false;
  std::thread([&] { posted = handle.Post([&] { ++ran; }); }).join();
  EXPECT_TRUE(posted);
  EXPECT_FALSE(handle.IsCurrent());
  loop->CallSoon([&] {
    EXPECT_TRUE(handle.IsCurrent());
    EXPECT_TRUE(handle.Post([&] { ran += 10; }));  // from its own thread: a CallSoon
  });
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_EQ(ran, 11);
  loop.reset();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  std::thread([&, t = std::move(token)]() mutable {
    posted = handle.Post([t = std::move(t)] { ++*t; });
  }).join();
  EXPECT_FALSE(posted);
  EXPECT_TRUE(weak.expired());         // destroyed unrun, on the posting thread
  WorkGuard late = handle.HoldWork();  // guards on a dead loop are harmless
  late.Release();
}

TEST_P(EventLoopTest, CloseDropsPendingWorkAndRefusesCrossThreadWork) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  loop->CallSoon([t = token] { ++*t; });
  loop->CallLater(absl::Milliseconds(1), [t = token] { ++*t; });
  EXPECT_TRUE(loop->CallSoonThreadSafe([t = token] { ++*t; }));
  token.reset();
  loop->Close();
  EXPECT_TRUE(loop->closed());
  EXPECT_TRUE(weak.expired());  // all three destroyed unrun
  EXPECT_EQ(loop->ready_count() + loop->timer_count(), 0u);
  EXPECT_FALSE(loop->CallSoonThreadSafe([] {}));
  EXPECT_FALSE(loop->handle().Post([] {}));
  int local = 0;
  loop->CallSoon([&] { ++local; });  // its own work still runs
  ASSERT_THAT(loop->RunUntilIdle(), IsOk());
  EXPECT_EQ(local, 1);
}

TEST_P(EventLoopTest, WorkGuardIsPendingWorkUntilReleased) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  EXPECT_FALSE(loop->HasPendingWork());
  WorkGuard guard = loop->handle().HoldWork();
  EXPECT_TRUE(guard.held());
  EXPECT_TRUE(loop->HasPendingWork());
  EXPECT_EQ(loop->outstanding_work(), 1u);
  WorkGuard moved = std::move(guard);
  EXPECT_EQ(loop->outstanding_work(), 1u);
  // Another thread finishes the work: posts its result, then releases. The loop, asleep in
  // the poller with nothing else to do, is woken by the release and sees the result first.
  int results = 0;
  std::thread worker([&, g = std::move(moved), h = loop->handle()]() mutable {
    h.Post([&] { ++results; });
    g.Release();
  });
  ASSERT_THAT(loop->RunUntil([&] { return !loop->HasPendingWork(); }), IsOk());
  worker.join();
  EXPECT_EQ(results, 1);
  EXPECT_EQ(loop->outstanding_work(), 0u);
}

TEST_P(EventLoopTest, ReleasingTheLastGuardWakesAParkedLoop) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  WorkGuard guard = loop->handle().HoldWork();
  std::atomic<bool> running{false};
  loop->CallSoon([&] { running = true; });
  std::thread releaser([&] {
    while (!running.load()) std::this_thread::yield();
    guard.Release();  // nothing posted: the release alone must wake the loop
  });
  ASSERT_THAT(loop->RunUntil([&] { return !loop->HasPendingWork(); }), IsOk());
  releaser.join();
}

// --- fds ------------------------------------------------------------------------------------

TEST_P(EventLoopTest, ASecondWatcherOnAnOpenFdIsAlreadyExists) {
  SocketPair sp;
  int first_calls = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher first,
                             FdWatcher::Start(*loop_, sp.fd[0], io::kReadable, [&](uint32_t) {
                               ++first_calls;
                               char buf[8];
                               (void)!read(sp.fd[0], buf, sizeof buf);
                             }));
  absl::StatusOr<FdWatcher> second =
      FdWatcher::Start(*loop_, sp.fd[0], io::kReadable, [](uint32_t) {});
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already watched")));
  EXPECT_EQ(loop_->fd_count(), 1u);
  sp.Send("x");  // the first watcher still works
  ASSERT_THAT(loop_->RunUntil([&] { return first_calls == 1; }), IsOk());
  first.Stop();
  CORIO_EXPECT_OK(FdWatcher::Start(*loop_, sp.fd[0], io::kReadable, [](uint32_t) {}).status());
}

TEST_P(EventLoopTest, LevelTriggeredWatcherRunsWhileReadable) {
  SocketPair sp;
  int calls = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher w,
                             FdWatcher::Start(*loop_, sp.fd[0], io::kReadable, [&](uint32_t ready) {
                               EXPECT_TRUE(ready & io::kReadable);
                               if (++calls == 3) {
                                 char buf[8];
                                 EXPECT_EQ(read(sp.fd[0], buf, sizeof buf), 1);
                               }
                             }));
  EXPECT_EQ(loop_->fd_count(), 1u);
  sp.Send("x");
  ASSERT_THAT(loop_->RunUntil([&] { return calls >= 3; }), IsOk());
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(calls, 3);  // drained: no more calls
  w.Stop();
  EXPECT_EQ(loop_->fd_count(), 0u);
}

TEST_P(EventLoopTest, EdgeTriggeredWatcherRunsOncePerArrival) {
  SocketPair sp;
  int calls = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher w,
                             FdWatcher::Start(*loop_, sp.fd[0], io::kReadable | io::kEdgeTriggered,
                                              [&](uint32_t) { ++calls; }));
  sp.Send("x");
  ASSERT_THAT(loop_->RunUntil([&] { return calls >= 1; }), IsOk());
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(calls, 1);
  sp.Send("y");
  ASSERT_THAT(loop_->RunUntil([&] { return calls >= 2; }), IsOk());
}

TEST_P(EventLoopTest, HandlerMayChangeInterestOrStopItself) {
  SocketPair sp;
  std::vector<uint32_t> seen;
  FdWatcher w;
  CORIO_ASSERT_OK_AND_ASSIGN(w,
                             FdWatcher::Start(*loop_, sp.fd[0], io::kWritable, [&](uint32_t ready) {
                               seen.push_back(ready & (io::kReadable | io::kWritable));
                               if (seen.size() == 1) {
                                 EXPECT_THAT(w.SetInterest(io::kReadable), IsOk());
                                 sp.Send("x");
                               } else {
                                 w.Stop();  // destroys this handler's registration while it runs
                               }
                             }));
  ASSERT_THAT(loop_->RunUntil([&] { return seen.size() == 2; }), IsOk());
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_THAT(seen, ElementsAre(io::kWritable, io::kReadable));
  EXPECT_FALSE(w.active());
  EXPECT_EQ(loop_->fd_count(), 0u);
}

TEST_P(EventLoopTest, WatcherStoppedEarlierInTheSameBatchIsNotCalled) {
  SocketPair a, b;
  int calls = 0;
  FdWatcher wa, wb;
  CORIO_ASSERT_OK_AND_ASSIGN(wa, FdWatcher::Start(*loop_, a.fd[0], io::kReadable, [&](uint32_t) {
                               ++calls;
                               wb.Stop();
                               wa.Stop();
                             }));
  CORIO_ASSERT_OK_AND_ASSIGN(wb, FdWatcher::Start(*loop_, b.fd[0], io::kReadable, [&](uint32_t) {
                               ++calls;
                               wa.Stop();
                               wb.Stop();
                             }));
  a.Send("x");
  b.Send("x");
  ASSERT_THAT(loop_->RunUntilIdle(), IsOk());
  EXPECT_EQ(calls, 1);  // whichever ran first stopped the other, whose event was then dropped
}

TEST_P(EventLoopTest, PeerHangupIsReported) {
  SocketPair sp;
  uint32_t seen = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher w,
                             FdWatcher::Start(*loop_, sp.fd[0], io::kReadable, [&](uint32_t ready) {
                               seen = ready;
                               loop_->Stop();
                             }));
  close(sp.fd[1]);
  sp.fd[1] = -1;
  ASSERT_THAT(loop_->Run(), IsOk());
  EXPECT_TRUE(seen & io::kHangup);
}

TEST_P(EventLoopTest, FdClosedWhileWatchedGoesQuietAndItsNumberCanBeReused) {
  auto first = std::make_unique<SocketPair>();
  const int fd = first->fd[0];
  int old_calls = 0, new_calls = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(
      FdWatcher old_watcher,
      FdWatcher::Start(*loop_, fd, io::kReadable, [&](uint32_t) { ++old_calls; }));
  first.reset();  // closes the fd under the watcher
  SocketPair second;
  ASSERT_EQ(second.fd[0], fd) << "expected the fd number to be reused";
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher new_watcher,
                             FdWatcher::Start(*loop_, second.fd[0], io::kReadable, [&](uint32_t) {
                               ++new_calls;
                               char buf[8];
                               (void)!read(second.fd[0], buf, sizeof buf);
                             }));
  old_watcher.Stop();  // must not unregister the new watcher of the same fd number
  EXPECT_THAT(old_watcher.SetInterest(io::kWritable),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  second.Send("x");
  ASSERT_THAT(loop_->RunUntil([&] { return new_calls == 1; }), IsOk());
  EXPECT_EQ(old_calls, 0);
}

TEST_P(EventLoopTest, WatchersOutlivingTheirLoopAreDetached) {
  SocketPair sp;
  FdWatcher w;
  {
    std::unique_ptr<EventLoop> loop = NewLoop();
    CORIO_ASSERT_OK_AND_ASSIGN(w,
                               FdWatcher::Start(*loop, sp.fd[0], io::kReadable, [](uint32_t) {}));
    EXPECT_TRUE(w.active());
  }
  EXPECT_FALSE(w.active());
  w.Stop();  // no-op, no crash
}

TEST_P(EventLoopTest, BadFdIsAnError) {
  EXPECT_THAT(FdWatcher::Start(*loop_, -1, io::kReadable, [](uint32_t) {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const int closed = dup(0);
  ASSERT_GE(closed, 0);
  close(closed);
  uint32_t seen = 0;
  absl::StatusOr<FdWatcher> w =
      FdWatcher::Start(*loop_, closed, io::kReadable, [&](uint32_t ready) { seen = ready; });
  if (GetParam() == EventLoop::Backend::kEpoll) {
    EXPECT_THAT(w.status(), StatusIs(absl::StatusCode::kFailedPrecondition));  // EBADF at once
  } else {
    // io_uring learns of it when the poll is submitted, and tells the handler.
    ASSERT_THAT(w, IsOk());
    ASSERT_THAT(loop_->RunUntil([&] { return seen != 0; }), IsOk());
    EXPECT_TRUE(seen & io::kError);
  }
}

TEST_P(EventLoopTest, IoIsPolledWhileAChainOfCallbacksKeepsTheLoopBusy) {
  SocketPair sp;
  bool io_seen = false;
  int chain = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher w, FdWatcher::Start(*loop_, sp.fd[0], io::kReadable,
                                                           [&](uint32_t) { io_seen = true; }));
  std::function<void()> spin = [&] {
    ++chain;
    if (!io_seen) loop_->CallSoon([&] { spin(); });
  };
  loop_->CallSoon([&] { spin(); });
  sp.Send("x");
  ASSERT_THAT(loop_->RunUntil([&] { return io_seen; }), IsOk());
  EXPECT_LE(chain, 2 * 256 + 1);  // within two fairness budgets
}

TEST_P(EventLoopTest, PollIoSoonEndsTheTurnAndPollsNext) {
  SocketPair sp;
  bool io_seen = false;
  int chain = 0;
  CORIO_ASSERT_OK_AND_ASSIGN(FdWatcher w, FdWatcher::Start(*loop_, sp.fd[0], io::kReadable,
                                                           [&](uint32_t) { io_seen = true; }));
  std::function<void()> spin = [&] {
    ++chain;
    loop_->PollIoSoon();  // what an I/O burst that yields does
    if (!io_seen) loop_->CallSoon([&] { spin(); });
  };
  sp.Send("x");
  loop_->CallSoon([&] { spin(); });
  ASSERT_THAT(loop_->RunUntil([&] { return io_seen; }), IsOk());
  EXPECT_LE(chain, 2);  // not a fairness budget's worth of callbacks
}

// --- signals --------------------------------------------------------------------------------

TEST_P(EventLoopTest, SignalsAreDeliveredOnTheLoopThread) {
  int got = 0;
  ASSERT_THAT(loop_->AddSignalHandler(SIGUSR1,
                                      [&] {
                                        ++got;
                                        EXPECT_TRUE(loop_->IsInLoopThread());
                                        loop_->Stop();
                                      }),
              IsOk());
  std::unique_ptr<EventLoop> other = NewLoop();
  EXPECT_THAT(other->AddSignalHandler(SIGUSR1, [] {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another event loop")));
  EXPECT_THAT(loop_->AddSignalHandler(SIGKILL, [] {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::thread([] { kill(getpid(), SIGUSR1); }).join();
  ASSERT_THAT(loop_->Run(), IsOk());
  EXPECT_EQ(got, 1);
  ASSERT_THAT(loop_->RemoveSignalHandler(SIGUSR1), IsOk());
  EXPECT_THAT(loop_->RemoveSignalHandler(SIGUSR1), StatusIs(absl::StatusCode::kNotFound));
  // Now the other loop may take it.
  ASSERT_THAT(other->AddSignalHandler(SIGUSR1, [] {}), IsOk());
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLoopTest,
                         ::testing::Values(EventLoop::Backend::kEpoll,
                                           EventLoop::Backend::kIoUring),
                         [](const auto& info) {
                           return info.param == EventLoop::Backend::kEpoll ? "epoll" : "io_uring";
                         });

}  // namespace
}  // namespace corio
