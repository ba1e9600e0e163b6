// TcpStream over loopback, on one loop: data both ways with backpressure, EOF, resets, refused
// connections; cancel safety of reads and writes; streams moved while tasks wait on them;
// ReadBefore, WriteAllv, Write, IsIdleUsable, PeerName — and no fd left open afterwards.
// Nothing here waits on time for loopback I/O: where a test needs the kernel to have delivered
// something, it waits on the socket (poll), never on the (virtual) clock.
#include "net/tcp_stream.h"

#include <linux/tcp.h>  // tcp_info with tcpi_bytes_received
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "base/check.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tcp_blackhole.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

class TcpStreamTest : public testing::FdLeakCheck {};

// A plain listening socket (this test depends on TcpStream alone, not on TcpListener).
struct RawListener {
  explicit RawListener(bool ipv6 = false) {
    const SocketAddress at = ipv6 ? SocketAddress::Loopback6(0) : SocketAddress::Loopback4(0);
    fd = socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    CORIO_CHECK(bind(fd, at.sockaddr_ptr(), at.socklen()) == 0 && listen(fd, 64) == 0);
    address = *SocketAddress::LocalOf(fd);
  }
  ~RawListener() { close(fd); }
  // The next connection, adopted as a TcpStream. Only after a connect to `address` completed:
  // the blocking accept() then returns as soon as the kernel has queued it.
  absl::StatusOr<TcpStream> Accept() {
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    const int s = accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (s < 0) return absl::ErrnoToStatus(errno, "accept");
    return TcpStream::Adopt(s,
                            *SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer), len));
  }
  int fd = -1;
  SocketAddress address;
};

struct Conns {
  explicit Conns(bool ipv6) : listener(ipv6) {}
  RawListener listener;
  TcpStream client;
  TcpStream server;
};

Task<absl::StatusOr<std::unique_ptr<Conns>>> Connected(bool ipv6 = false) {
  auto c = std::make_unique<Conns>(ipv6);
  CORIO_CO_ASSIGN_OR_RETURN(c->client, co_await TcpStream::Connect(c->listener.address));
  CORIO_CO_ASSIGN_OR_RETURN(c->server, c->listener.Accept());
  co_return c;
}

// Blocks until the kernel has something for `fd` to read (data, EOF or an error).
void WaitForKernel(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  (void)poll(&p, 1, -1);
}

std::string Pattern(size_t n) {
  std::string s(n, 0);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

void ResetOnClose(TcpStream& s) {
  const linger abort_on_close{1, 0};  // close() sends RST
  setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
}

Task<absl::StatusOr<std::string>> ReadToEof(TcpStream* s) {
  std::string got;
  std::vector<char> buf(16 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return got;
    got.append(buf.data(), *n);
  }
}

Task<absl::Status> WriteThenShutdown(TcpStream* s, const std::string* data) {
  CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAll(*data));
  co_return co_await s->Shutdown();
}

TEST_F(TcpStreamTest, EchoesAMegabyteBothWaysWithBackpressure) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    EXPECT_EQ(c->client.peer(), c->listener.address);
    const std::string sent = Pattern(1 << 20);
    auto echo = [](TcpStream* s) -> Task<absl::Status> {
      std::vector<char> buf(64 * 1024);
      for (;;) {
        absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
        if (!n.ok()) co_return n.status();
        if (*n == 0) {
          co_return co_await s->Shutdown();
        }
        CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAll(absl::string_view(buf.data(), *n)));
      }
    };
    CORIO_CO_ASSIGN_OR_RETURN(
        auto results, co_await Gather(WriteThenShutdown(&c->client, &sent), ReadToEof(&c->client),
                                      echo(&c->server)));
    EXPECT_TRUE(std::get<1>(results) == sent);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ConnectionRefusedNamesTheAddress) {
  // A bound socket that does not listen: connecting to it is refused at once.
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  SocketAddress addr = SocketAddress::Loopback4(0);
  ASSERT_EQ(bind(s, addr.sockaddr_ptr(), addr.socklen()), 0);
  addr = *SocketAddress::LocalOf(s);
  auto main = [](SocketAddress addr) -> Task<absl::Status> {
    absl::StatusOr<TcpStream> conn = co_await TcpStream::Connect(addr);
    co_return conn.status();
  };
  EXPECT_THAT(RunTask(main(addr)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("connect " + addr.ToString() + ": Connection refused")));
  close(s);
}

TEST_F(TcpStreamTest, PeerCloseIsEofAndReadExactlySaysHowFarItGot) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll("abc"));
    c->server.Close();
    char buf[8];
    absl::Status exact = co_await c->client.ReadExactly(absl::MakeSpan(buf, 8));
    EXPECT_THAT(exact, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 3 of 8 bytes")));
    absl::StatusOr<size_t> eof = co_await c->client.Read(absl::MakeSpan(buf));
    EXPECT_THAT(eof, IsOkAndHolds(0u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ResetByPeerIsAnErrorNamingThePeer) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    ResetOnClose(c->server);
    c->server.Close();
    char buf[8];
    absl::StatusOr<size_t> n = co_await c->client.Read(absl::MakeSpan(buf));
    co_return n.status();
  };
  EXPECT_THAT(RunTask(main()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read from 127.0.0.1:")));
}

TEST_F(TcpStreamTest, AHangingConnectTimesOutOrIsCancelledWithoutLeaks) {
  // The blackhole drops SYNs by construction, so the connect hangs however loaded the machine.
  absl::StatusOr<std::unique_ptr<testing::TcpBlackhole>> hole = testing::TcpBlackhole::Create();
  ASSERT_THAT(hole.status(), IsOk());
  auto main = [](SocketAddress addr) -> Task<absl::Status> {
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(addr, absl::Seconds(3));
    EXPECT_THAT(c, StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("timed out after 3s")));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
    JoinHandle<absl::StatusOr<TcpStream>> pending = Spawn(TcpStream::Connect(addr));
    (void)co_await Sleep(absl::Seconds(1));
    pending.Cancel();
    absl::StatusOr<TcpStream> cancelled = co_await std::move(pending);
    co_return cancelled.status();
  };
  EXPECT_THAT(RunTask(main((*hole)->address())), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(TcpStreamTest, MovingStreamsWhileTasksWatchThemIsHarmless) {
  // Issue 10 #1: a pool keeps idle streams in a growing vector with a task watching each; the
  // vector reallocates, then the servers close.
  auto main = []() -> Task<absl::Status> {
    RawListener listener;
    std::vector<TcpStream> idle;
    std::vector<TcpStream> servers;
    std::vector<JoinHandle<absl::StatusOr<size_t>>> watchers;
    auto watch = [](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
      char byte;
      co_return co_await s->Read(absl::MakeSpan(&byte, 1));
    };
    for (int i = 0; i < 9; ++i) {  // the vector reallocates at 1, 2, 4 and 8 elements
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(listener.address));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream s, listener.Accept());
      idle.push_back(std::move(c));
      servers.push_back(std::move(s));
      watchers.push_back(Spawn(watch(&idle.back())));
      (void)co_await Yield();  // the watcher is waiting now
    }
    servers.clear();  // every server closes: each watcher reads EOF
    for (auto& w : watchers) {
      absl::StatusOr<size_t> n = co_await std::move(w);
      EXPECT_THAT(n, IsOkAndHolds(0u));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, DestroyingAStreamWhileAReadWaitsResumesItWithCancelled) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    auto client = std::make_unique<TcpStream>(std::move(c->client));
    char byte;
    JoinHandle<absl::StatusOr<size_t>> r = Spawn(client->Read(absl::MakeSpan(&byte, 1)));
    (void)co_await Yield();
    client.reset();
    absl::StatusOr<size_t> n = co_await std::move(r);
    co_return n.status();
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

Task<absl::Status> ReadUntilCancelled(TcpStream* s, std::string* got, bool* eof) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      *eof = true;
      co_return absl::OkStatus();
    }
    got->append(buf.data(), *n);
  }
}

TEST_F(TcpStreamTest, ACancelledReadNeverLosesBytes) {
  // Issue 10 #3: Read took bytes, then its fairness yield saw the cancellation and returned
  // CANCELLED: the bytes were gone. Readers are cancelled at many different points of a bulk
  // transfer; whatever they got plus what the next reader gets must be the whole stream.
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string sent = Pattern(4 << 20);
    JoinHandle<absl::Status> writer = Spawn(WriteThenShutdown(&c->server, &sent));
    std::string got;
    bool eof = false;
    int cancels = 0;
    for (int round = 0; !eof && round < 100000; ++round) {
      JoinHandle<absl::Status> reader = Spawn(ReadUntilCancelled(&c->client, &got, &eof));
      for (int i = 0; i < round % 7; ++i) (void)co_await Yield();
      reader.Cancel();
      absl::Status s = co_await std::move(reader);
      if (absl::IsCancelled(s)) ++cancels;
      if (!s.ok() && !absl::IsCancelled(s)) co_return s;
    }
    CORIO_CO_RETURN_IF_ERROR(co_await std::move(writer));
    EXPECT_GT(cancels, 0);
    EXPECT_EQ(got.size(), sent.size());
    EXPECT_TRUE(got == sent);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, WriteAllSaysHowFarItGotWhenThePeerResets) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string big(32 << 20, 'z');  // more than the socket buffers hold
    JoinHandle<absl::Status> w = Spawn(c->client.WriteAll(big));
    (void)co_await Yield();  // the writer filled the buffers and waits
    ResetOnClose(c->server);
    c->server.Close();
    absl::Status s = co_await std::move(w);
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("write to 127.0.0.1:"));
    EXPECT_THAT(std::string(s.message()),
                ::testing::MatchesRegex(".*\\(after [1-9][0-9]* of 33554432 bytes\\)"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ACancelledWriteAllSaysHowFarItGot) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string big(32 << 20, 'z');
    JoinHandle<absl::Status> w = Spawn(c->client.WriteAll(big));
    (void)co_await Yield();
    w.Cancel();
    absl::Status s = co_await std::move(w);
    EXPECT_THAT(std::string(s.message()),
                ::testing::MatchesRegex(".*\\(after [1-9][0-9]* of 33554432 bytes\\)"));
    co_return s;
  };
  EXPECT_THAT(RunTask(main()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(TcpStreamTest, WriteAllvBeforeTimesOutOnAPeerThatDoesNotReadAndSaysHowFarItGot) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string small = "GET / HTTP/1.1\r\n\r\n";
    const absl::Time start = EventLoop::Current()->Now();
    absl::string_view one[] = {small};
    CORIO_CO_RETURN_IF_ERROR(co_await c->client.WriteAllvBefore(one, start + absl::Seconds(30)));
    const std::string big(32 << 20, 'z');
    absl::string_view pieces[] = {small, big};
    absl::Status s = co_await c->client.WriteAllvBefore(pieces, start + absl::Seconds(30));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded,
                            HasSubstr("write to " + c->client.PeerName() + ": deadline exceeded")));
    EXPECT_THAT(std::string(s.message()),
                ::testing::MatchesRegex(".*\\(after [1-9][0-9]* of 33554450 bytes\\)"));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(30));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ReadBeforeTimesOutOnVirtualTimeAndTheStreamStaysUsable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    std::vector<char> buf(16);
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<size_t> n =
        co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Seconds(30));
    EXPECT_THAT(n, StatusIs(absl::StatusCode::kDeadlineExceeded,
                            HasSubstr("read from " + c->client.PeerName())));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(30));
    CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll("late"));
    // Data in time wins, even with a deadline that has already passed once it is there.
    WaitForKernel(c->client.fd());
    absl::StatusOr<size_t> later =
        co_await c->client.ReadBefore(absl::MakeSpan(buf), EventLoop::Current()->Now());
    EXPECT_THAT(later, IsOkAndHolds(4u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, WriteAllvSendsEveryPieceInOrder) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    // More pieces than one writev takes (IOV_MAX), some empty, some large.
    const std::string big = Pattern(3 << 20);
    std::vector<absl::string_view> pieces;
    std::string expected;
    for (int i = 0; i < 3000; ++i) {
      absl::string_view p = absl::string_view(big).substr(i * 7, i % 3 == 0 ? 0 : i % 50);
      pieces.push_back(p);
      expected.append(p.data(), p.size());
    }
    pieces.push_back(big);
    expected.append(big);
    auto writer = [](TcpStream* s, std::vector<absl::string_view>* p) -> Task<absl::Status> {
      CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAllv(*p));
      co_return co_await s->Shutdown();
    };
    CORIO_CO_ASSIGN_OR_RETURN(auto results,
                              co_await Gather(writer(&c->client, &pieces), ReadToEof(&c->server)));
    EXPECT_TRUE(std::get<1>(results) == expected);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, WriteWritesSomeAndSaysHowMuch) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    absl::StatusOr<size_t> small = co_await c->client.Write("hello");
    EXPECT_THAT(small, IsOkAndHolds(5u));
    absl::StatusOr<size_t> none = co_await c->client.Write("");
    EXPECT_THAT(none, IsOkAndHolds(0u));
    const std::string big(64 << 20, 'z');
    absl::StatusOr<size_t> part = co_await c->client.Write(big);
    if (!part.ok()) co_return part.status();
    EXPECT_GT(*part, 0u);
    EXPECT_LT(*part, big.size());  // the socket buffers take less than 64 MiB
    c->client.Close();
    absl::StatusOr<size_t> closed = co_await c->client.Write("x");
    EXPECT_THAT(closed, StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, IsIdleUsableSeesEofResetsAndUnexpectedBytes) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto quiet, co_await Connected());
    EXPECT_TRUE(quiet->client.IsIdleUsable());

    CORIO_CO_ASSIGN_OR_RETURN(auto chatty, co_await Connected());
    CORIO_CO_RETURN_IF_ERROR(co_await chatty->server.WriteAll("x"));
    WaitForKernel(chatty->client.fd());
    EXPECT_FALSE(chatty->client.IsIdleUsable());
    EXPECT_FALSE(chatty->client.IsIdleUsable());  // peeking consumed nothing
    char byte;
    absl::StatusOr<size_t> n = co_await chatty->client.Read(absl::MakeSpan(&byte, 1));
    EXPECT_THAT(n, IsOkAndHolds(1u));

    CORIO_CO_ASSIGN_OR_RETURN(auto closed, co_await Connected());
    closed->server.Close();
    WaitForKernel(closed->client.fd());
    EXPECT_FALSE(closed->client.IsIdleUsable());

    CORIO_CO_ASSIGN_OR_RETURN(auto reset, co_await Connected());
    ResetOnClose(reset->server);
    reset->server.Close();
    WaitForKernel(reset->client.fd());
    EXPECT_FALSE(reset->client.IsIdleUsable());

    quiet->client.Close();
    EXPECT_FALSE(quiet->client.IsIdleUsable());
    EXPECT_FALSE(TcpStream().IsIdleUsable());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, PeerNameAndClosedStreams) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected(/*ipv6=*/true));
    EXPECT_EQ(c->client.PeerName(), c->listener.address.ToString());
    EXPECT_THAT(c->client.PeerName(), ::testing::StartsWith("[::1]:"));
    TcpStream moved = std::move(c->client);
    EXPECT_TRUE(moved.is_open());
    EXPECT_FALSE(c->client.is_open());  // NOLINT: moved-from is empty
    char byte;
    absl::StatusOr<size_t> r = co_await c->client.Read(absl::MakeSpan(&byte, 1));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
    absl::Status w = co_await c->client.WriteAll("x");
    EXPECT_THAT(w, StatusIs(absl::StatusCode::kFailedPrecondition));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ABusyStreamLetsOtherTasksRun) {
  // Everything is already in the socket, so every read could complete at once: the fairness
  // budget must still let the other task run while the reader drains it.
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string sent = Pattern(256 << 10);
    CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll(sent));
    c->server.Close();
    WaitForKernel(c->client.fd());
    bool done = false;
    int ticks = 0;
    auto ticker = [](bool* done, int* ticks) -> Task<void> {
      while (!*done) {
        ++*ticks;
        (void)co_await Yield();
      }
    };
    JoinHandle<void> t = Spawn(ticker(&done, &ticks));
    (void)co_await Yield();  // the ticker has started
    const int before = ticks;
    std::vector<char> buf(4096);
    size_t got = 0;
    for (;;) {
      absl::StatusOr<size_t> n = co_await c->client.Read(absl::MakeSpan(buf));
      if (!n.ok()) co_return n.status();
      if (*n == 0) break;
      got += *n;
    }
    done = true;
    co_await std::move(t);
    EXPECT_EQ(got, sent.size());
    EXPECT_GT(ticks - before, 0);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TcpStreamTest, ATaskCancelledBeforeReadingTakesNoBytes) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll("data"));
    WaitForKernel(c->client.fd());
    auto cancelled_reader = [](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
      (void)co_await Sleep(absl::Hours(1));  // cancelled here
      char buf[8];
      co_return co_await s->Read(absl::MakeSpan(buf));
    };
    JoinHandle<absl::StatusOr<size_t>> h = Spawn(cancelled_reader(&c->client));
    (void)co_await Yield();
    h.Cancel();
    absl::StatusOr<size_t> r = co_await std::move(h);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    char buf[8];
    absl::StatusOr<size_t> n = co_await c->client.Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(4u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Blocks until the peer's FIN (and so every byte sent before it) is in `fd`'s receive queue.
void WaitForKernelEof(int fd) {
  for (;;) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, -1) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return;
  }
}

// Blocks until the kernel has received `n` bytes in order on `fd` (urgent bytes included).
void WaitForReceived(int fd, uint64_t n) {
  for (;;) {
    tcp_info info = {};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_bytes_received >= n) {
      return;
    }
    pollfd p{fd, POLLIN, 0};
    (void)poll(&p, 1, 1);
  }
}

// A short read (fewer bytes than asked) tells TcpStream that the receive queue was empty, so its
// next read waits for a readiness event. A FIN that came with the last bytes raises no further
// event: the next read must still see the EOF at once (had it waited, virtual time would jump to
// the deadline and the read after it would find the EOF then).
TEST_F(TcpStreamTest, AnEofThatCameWithTheLastBytesIsReadWithoutWaiting) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const std::string data = "last bytes";
    CORIO_CO_RETURN_IF_ERROR(co_await WriteThenShutdown(&c->server, &data));
    WaitForKernelEof(c->client.fd());
    const absl::Time start = EventLoop::Current()->Now();
    std::vector<char> buf(64);
    absl::StatusOr<size_t> n =
        co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Hours(1));
    EXPECT_THAT(n, IsOkAndHolds(data.size()));
    absl::StatusOr<size_t> eof =
        co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Hours(1));
    EXPECT_THAT(eof, IsOkAndHolds(0u));
    EXPECT_EQ(EventLoop::Current()->Now(), start);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// The same for a reset that came with the last bytes: a read reports it at once.
TEST_F(TcpStreamTest, AResetThatCameWithTheLastBytesIsReadWithoutWaiting) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll("bytes"));
    ResetOnClose(c->server);
    c->server.Close();
    WaitForKernelEof(c->client.fd());
    const absl::Time start = EventLoop::Current()->Now();
    std::vector<char> buf(64);
    absl::StatusOr<size_t> n =
        co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Hours(1));
    if (n.ok() && *n > 0) {  // the bytes before the reset, if the kernel kept them
      n = co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Hours(1));
    }
    EXPECT_THAT(n, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(EventLoop::Current()->Now(), start);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A TCP read stops short at an urgent mark although bytes follow it: those must not wait for an
// event that already came (a server could stall a response that way).
TEST_F(TcpStreamTest, BytesPastAnUrgentMarkAreReadWithoutWaiting) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    const int s = c->server.fd();
    CORIO_CHECK(send(s, "ab", 2, 0) == 2);
    CORIO_CHECK(send(s, "!", 1, MSG_OOB) == 1);  // out of band: the mark is after "ab"
    CORIO_CHECK(send(s, "cd", 2, 0) == 2);
    WaitForReceived(c->client.fd(), 5);
    const absl::Time start = EventLoop::Current()->Now();
    std::string got;
    std::vector<char> buf(64);
    while (got.size() < 4) {
      absl::StatusOr<size_t> n =
          co_await c->client.ReadBefore(absl::MakeSpan(buf), start + absl::Hours(1));
      CORIO_CO_RETURN_IF_ERROR(n.status());
      if (*n == 0) break;
      got.append(buf.data(), *n);
    }
    EXPECT_EQ(got, "abcd");
    EXPECT_EQ(EventLoop::Current()->Now(), start);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// After a short read the next read waits for the event of new bytes, and gets them; a read into
// an empty buffer waits for nothing.
TEST_F(TcpStreamTest, AfterAShortReadTheNextReadGetsTheBytesThatComeLater) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto c, co_await Connected());
    std::vector<char> buf(64);
    for (int i = 0; i < 3; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await c->server.WriteAll("x"));
      absl::StatusOr<size_t> n = co_await c->client.Read(absl::MakeSpan(buf));
      EXPECT_THAT(n, IsOkAndHolds(1u));
    }
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<size_t> none =
        co_await c->client.ReadBefore(absl::Span<char>(), start + absl::Hours(1));
    EXPECT_THAT(none, IsOkAndHolds(0u));
    EXPECT_EQ(EventLoop::Current()->Now(), start);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio
