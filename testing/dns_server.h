// FakeDnsServer: an in-process DNS server over UDP on loopback, for tests of DNS clients. It
// runs on the current event loop and answers from a script set per name:
//
//   CORIO_ASSERT_OK_AND_ASSIGN(auto dns, corio::testing::FakeDnsServer::Start());
//   dns->AddA("api.test", "10.0.0.1", /*ttl_seconds=*/60);
//   dns->AddAAAA("api.test", "fd00::1");
//   dns->AddCname("www.test", "api.test");
//   dns->SetNxDomain("nope.test");       // also: SetServFail, SetDelay, SetDrop, SetTruncated
//   options.servers = {dns->address()};
//   ... dns->queries("api.test") counts what reached the server ...
//
// Names without a script get NXDOMAIN. Names are case-insensitive. A delayed answer is sent
// from a loop timer (virtual time applies). A truncated answer sets TC with no records (a real
// client then retries over TCP, which this server does not serve: the retry is refused).
// Threading: the loop's thread. Ownership: destroying the server closes its socket.
#ifndef CORIO_TESTING_DNS_SERVER_H_
#define CORIO_TESTING_DNS_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "net/socket_address.h"

namespace corio::testing {

class FakeDnsServer {
 public:
  static absl::StatusOr<std::unique_ptr<FakeDnsServer>> Start();
  ~FakeDnsServer();

  const SocketAddress& address() const { return address_; }

  void AddA(const std::string& name, const std::string& ipv4, uint32_t ttl_seconds = 300);
  void AddAAAA(const std::string& name, const std::string& ipv6, uint32_t ttl_seconds = 300);
  void AddCname(const std::string& name, const std::string& target, uint32_t ttl_seconds = 300);
  void SetNxDomain(const std::string& name);
  void SetServFail(const std::string& name);
  void SetDelay(const std::string& name, absl::Duration delay);
  void SetDrop(const std::string& name);
  void SetTruncated(const std::string& name);
  // Forgets the script of `name` (it becomes NXDOMAIN).
  void Clear(const std::string& name);

  int queries(const std::string& name) const;
  int total_queries() const { return total_; }

 private:
  struct Record {
    uint16_t type;  // 1 A, 28 AAAA, 5 CNAME
    std::string data;  // 4 or 16 address bytes, or the CNAME target name
    uint32_t ttl;
  };
  struct Script {
    std::vector<Record> records;
    int rcode = 0;  // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN
    absl::Duration delay = absl::ZeroDuration();
    bool drop = false;
    bool truncated = false;
  };

  FakeDnsServer(EventLoop& loop, int fd, SocketAddress address)
      : loop_(loop), fd_(fd), address_(address) {}
  void OnReadable();
  std::string Answer(const std::string& query, const std::string& qname, uint16_t qtype,
                     const Script* script) const;
  Script& ScriptFor(const std::string& name);

  EventLoop& loop_;
  int fd_;
  SocketAddress address_;
  FdWatcher watcher_;
  std::map<std::string, Script> scripts_;  // by lowercase name
  std::map<std::string, int> queries_;
  int total_ = 0;
  std::vector<TimerHandle> pending_;  // delayed answers
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_DNS_SERVER_H_
