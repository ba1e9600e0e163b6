// One conformance suite for every Poller: epoll and io_uring must behave the same.
#include "loop/poller.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "loop/io_events.h"
#include "testing/status_matchers.h"

namespace corio::loop_internal {
namespace {

using ::corio::testing::IsOk;

class PollerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::Status error;
    poller_ = GetParam() == "epoll" ? NewEpollPoller(&error) : NewUringPoller(&error);
    ASSERT_NE(poller_, nullptr) << error;
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }

  // Returns the events reported for `token` in one non-blocking Wait (0 if none).
  uint32_t EventsFor(uint64_t token, int64_t timeout_ns = 0) {
    std::array<PollEvent, 16> out;
    absl::StatusOr<int> n = poller_->Wait(timeout_ns, absl::MakeSpan(out));
    EXPECT_THAT(n, IsOk());
    uint32_t events = 0;
    for (int i = 0; i < n.value_or(0); ++i) {
      if (out[i].token == token) events |= out[i].events;
    }
    return events;
  }

  void Send(const char* s) { ASSERT_GT(write(fds_[1], s, strlen(s)), 0); }
  void Drain() {
    char buf[256];
    while (read(fds_[0], buf, sizeof buf) > 0) {
    }
  }

  std::unique_ptr<Poller> poller_;
  int fds_[2];
};

TEST_P(PollerTest, LevelTriggeredReportsWhileReadable) {
  ASSERT_THAT(poller_->Add(fds_[0], 42, io::kReadable), IsOk());
  EXPECT_EQ(EventsFor(42), 0u);
  Send("x");
  EXPECT_TRUE(EventsFor(42, 1'000'000'000) & io::kReadable);
  EXPECT_TRUE(EventsFor(42, 1'000'000'000) & io::kReadable);  // still unread: reported again
  Drain();
  EXPECT_EQ(EventsFor(42), 0u);
}

TEST_P(PollerTest, EdgeTriggeredReportsOncePerArrival) {
  ASSERT_THAT(poller_->Add(fds_[0], 7, io::kReadable | io::kEdgeTriggered), IsOk());
  Send("x");
  EXPECT_TRUE(EventsFor(7, 1'000'000'000) & io::kReadable);
  EXPECT_EQ(EventsFor(7) & io::kReadable, 0u);  // unread, but no new edge
  Send("y");
  EXPECT_TRUE(EventsFor(7, 1'000'000'000) & io::kReadable);
}

TEST_P(PollerTest, ModifyChangesInterestAndToken) {
  ASSERT_THAT(poller_->Add(fds_[0], 1, io::kReadable), IsOk());
  EXPECT_EQ(EventsFor(1), 0u);
  ASSERT_THAT(poller_->Modify(fds_[0], 2, io::kWritable), IsOk());
  EXPECT_TRUE(EventsFor(2, 1'000'000'000) & io::kWritable);
  Send("x");
  ASSERT_THAT(poller_->Modify(fds_[0], 3, io::kReadable), IsOk());
  uint32_t ev = EventsFor(3, 1'000'000'000);
  EXPECT_TRUE(ev & io::kReadable);
  EXPECT_FALSE(ev & io::kWritable);
}

TEST_P(PollerTest, RemovedRegistrationsAreNeverReported) {
  ASSERT_THAT(poller_->Add(fds_[0], 9, io::kReadable), IsOk());
  Send("x");
  ASSERT_THAT(poller_->Remove(fds_[0], 9), IsOk());
  EXPECT_EQ(EventsFor(9), 0u);
  EXPECT_EQ(EventsFor(9, 20'000'000), 0u);
  // And the fd can be registered again.
  ASSERT_THAT(poller_->Add(fds_[0], 10, io::kReadable), IsOk());
  EXPECT_TRUE(EventsFor(10, 1'000'000'000) & io::kReadable);
}

TEST_P(PollerTest, PeerCloseIsReportedAsHangup) {
  ASSERT_THAT(poller_->Add(fds_[0], 5, io::kReadable), IsOk());
  close(fds_[1]);
  fds_[1] = socket(AF_UNIX, SOCK_STREAM, 0);  // keep TearDown's close valid
  const uint32_t ev = EventsFor(5, 1'000'000'000);
  EXPECT_TRUE(ev & io::kHangup);
  EXPECT_TRUE(ev & io::kReadable);  // a read now returns 0 (EOF)
}

TEST_P(PollerTest, UrgentDataIsReportedAsPriorityOnlyWhenAskedFor) {
  // Two TCP pairs on loopback (urgent data is TCP's); b asks for kPriority, d does not.
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at = {};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&at), len), 0);
  ASSERT_EQ(listen(lfd, 2), 0);
  ASSERT_EQ(getsockname(lfd, reinterpret_cast<sockaddr*>(&at), &len), 0);
  const int a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(a, reinterpret_cast<sockaddr*>(&at), len), 0);
  const int b = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  ASSERT_GE(b, 0);
  const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&at), len), 0);
  const int d = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  ASSERT_GE(d, 0);
  ASSERT_THAT(poller_->Add(b, 11, io::kReadable | io::kEdgeTriggered | io::kPriority), IsOk());
  ASSERT_THAT(poller_->Add(d, 12, io::kReadable | io::kEdgeTriggered), IsOk());
  for (int fd : {a, c}) {
    ASSERT_EQ(send(fd, "ab", 2, 0), 2);
    ASSERT_EQ(send(fd, "!", 1, MSG_OOB), 1);
  }
  // The segments may come in one event or several: collect until both fds were reported with
  // what the kernel says then (urgent data pending: POLLPRI until it is read past).
  uint32_t asked = 0;
  uint32_t not_asked = 0;
  for (int i = 0; i < 100 && (!(asked & io::kPriority) || !(not_asked & io::kReadable)); ++i) {
    std::array<PollEvent, 16> out;
    absl::StatusOr<int> n = poller_->Wait(100'000'000, absl::MakeSpan(out));
    ASSERT_THAT(n, IsOk());
    for (int j = 0; j < *n; ++j) {
      if (out[j].token == 11) asked |= out[j].events;
      if (out[j].token == 12) not_asked |= out[j].events;
    }
  }
  EXPECT_TRUE(asked & io::kPriority);
  EXPECT_TRUE(asked & io::kReadable);
  EXPECT_TRUE(not_asked & io::kReadable);
  EXPECT_FALSE(not_asked & io::kPriority);
  for (int fd : {lfd, a, b, c, d}) close(fd);
}

TEST_P(PollerTest, TimeoutExpiresWithoutEvents) {
  std::array<PollEvent, 4> out;
  absl::StatusOr<int> n = poller_->Wait(1'000'000, absl::MakeSpan(out));  // 1 ms
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 0);
}

TEST_P(PollerTest, BadFdIsAnError) {
  if (GetParam() == "epoll") {
    EXPECT_EQ(poller_->Add(-1, 1, io::kReadable).code(), absl::StatusCode::kFailedPrecondition);
  } else {
    EXPECT_FALSE(poller_->Add(-1, 1, io::kReadable).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PollerTest, ::testing::Values("epoll", "io_uring"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace corio::loop_internal
