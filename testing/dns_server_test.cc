// FakeDnsServer, asked with raw UDP queries (no resolver): answers, CNAMEs, NXDOMAIN,
// SERVFAIL, truncation, delays on virtual time, drops, and query counts.
#include "testing/dns_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "base/status_macros.h"
#include "gtest/gtest.h"
#include "tasks/sleep.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

constexpr uint16_t kA = 1;
constexpr uint16_t kAAAA = 28;

std::string Query(uint16_t id, const std::string& name, uint16_t qtype) {
  std::string q = {
      static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<char>(dot - start));
    q.append(name, start, dot - start);
    start = dot + 1;
  }
  q.push_back(0);
  q += {static_cast<char>(qtype >> 8), static_cast<char>(qtype & 0xff), 0, 1};
  return q;
}

struct Answer {
  uint16_t id = 0;
  int rcode = -1;
  bool truncated = false;
  int answers = 0;
  std::string raw;
};

// Sends one query and waits for the answer (the server runs on this loop: yield to it),
// giving up after `patience` of (virtual) time.
Task<absl::StatusOr<Answer>> Ask(const SocketAddress& server, const std::string& query,
                                 absl::Duration patience = absl::Seconds(1)) {
  const int fd = socket(server.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return absl::InternalError("socket");
  sendto(fd, query.data(), query.size(), 0, server.sockaddr_ptr(), server.socklen());
  const absl::Time give_up = EventLoop::Current()->Now() + patience;
  char buf[1500];
  ssize_t n = -1;
  while ((n = recv(fd, buf, sizeof buf, 0)) < 0 && EventLoop::Current()->Now() < give_up) {
    (void)co_await Sleep(absl::Milliseconds(1));
  }
  close(fd);
  if (n < 12) co_return absl::DeadlineExceededError("no answer");
  Answer a;
  a.raw.assign(buf, n);
  const auto u8 = [&](int i) { return static_cast<uint8_t>(buf[i]); };
  a.id = static_cast<uint16_t>(u8(0) << 8 | u8(1));
  a.rcode = u8(3) & 0x0f;
  a.truncated = (u8(2) & 0x02) != 0;
  a.answers = u8(6) << 8 | u8(7);
  co_return a;
}

TEST(FakeDnsServerTest, AnswersFromItsScript) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, FakeDnsServer::Start());
    dns->AddA("api.test", "10.0.0.1");
    dns->AddAAAA("api.test", "fd00::1");
    dns->AddCname("www.test", "api.test");
    dns->SetNxDomain("nope.test");
    dns->SetServFail("broken.test");
    dns->SetTruncated("big.test");
    CORIO_CO_ASSIGN_OR_RETURN(Answer a, co_await Ask(dns->address(), Query(7, "API.test", kA)));
    EXPECT_EQ(a.id, 7);
    EXPECT_EQ(a.rcode, 0);
    EXPECT_EQ(a.answers, 1);
    EXPECT_EQ(a.raw.substr(a.raw.size() - 4), std::string("\x0a\x00\x00\x01", 4));
    CORIO_CO_ASSIGN_OR_RETURN(Answer v6, co_await Ask(dns->address(), Query(8, "api.test", kAAAA)));
    EXPECT_EQ(v6.answers, 1);
    CORIO_CO_ASSIGN_OR_RETURN(Answer cname, co_await Ask(dns->address(), Query(9, "www.test", kA)));
    EXPECT_EQ(cname.answers, 2);  // the CNAME and the address
    CORIO_CO_ASSIGN_OR_RETURN(Answer nx, co_await Ask(dns->address(), Query(10, "nope.test", kA)));
    EXPECT_EQ(nx.rcode, 3);
    CORIO_CO_ASSIGN_OR_RETURN(Answer sf,
                              co_await Ask(dns->address(), Query(11, "broken.test", kA)));
    EXPECT_EQ(sf.rcode, 2);
    CORIO_CO_ASSIGN_OR_RETURN(Answer tc, co_await Ask(dns->address(), Query(12, "big.test", kA)));
    EXPECT_TRUE(tc.truncated);
    EXPECT_EQ(tc.answers, 0);
    CORIO_CO_ASSIGN_OR_RETURN(Answer unknown,
                              co_await Ask(dns->address(), Query(13, "other.test", kA)));
    EXPECT_EQ(unknown.rcode, 3);  // no script: NXDOMAIN
    EXPECT_EQ(dns->queries("api.test"), 2);
    EXPECT_EQ(dns->total_queries(), 7);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(FakeDnsServerTest, DelaysRunOnTheLoopsClockAndDropsNeverAnswer) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto dns, FakeDnsServer::Start());
    dns->AddA("slow.test", "10.0.0.2");
    dns->SetDelay("slow.test", absl::Seconds(20));
    dns->SetDrop("silent.test");
    const absl::Time start = EventLoop::Current()->Now();
    CORIO_CO_ASSIGN_OR_RETURN(
        Answer slow, co_await Ask(dns->address(), Query(1, "slow.test", kA), absl::Seconds(30)));
    EXPECT_EQ(slow.answers, 1);
    EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(20));
    absl::StatusOr<Answer> silent = co_await Ask(dns->address(), Query(2, "silent.test", kA));
    EXPECT_THAT(silent, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_EQ(dns->queries("silent.test"), 1);
    dns->Clear("slow.test");
    CORIO_CO_ASSIGN_OR_RETURN(Answer gone, co_await Ask(dns->address(), Query(3, "slow.test", kA)));
    EXPECT_EQ(gone.rcode, 3);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::testing
