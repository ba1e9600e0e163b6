#include "testing/dns_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace corio::testing {
namespace {

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xFF));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xFFFF));
}
uint16_t Get16(const std::string& s, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(s[at]) << 8) |
                               static_cast<unsigned char>(s[at + 1]));
}
std::string EncodeName(const std::string& name) {
  std::string out;
  for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
    out.push_back(static_cast<char>(label.size()));
    out.append(label.data(), label.size());
  }
  out.push_back('\0');
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeDnsServer>> FakeDnsServer::Start() {
  EventLoop* loop = EventLoop::Current();
  if (loop == nullptr) return absl::FailedPreconditionError("FakeDnsServer needs a running loop");
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  SocketAddress addr = SocketAddress::Loopback4(0);
  if (bind(fd, addr.sockaddr_ptr(), addr.socklen()) != 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, "bind");
  }
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(fd);
  if (!local.ok()) {
    close(fd);
    return local.status();
  }
  std::unique_ptr<FakeDnsServer> server(new FakeDnsServer(*loop, fd, *local));
  FakeDnsServer* s = server.get();
  absl::StatusOr<FdWatcher> w =
      FdWatcher::Start(*loop, fd, io::kReadable, [s](uint32_t) { s->OnReadable(); });
  if (!w.ok()) return w.status();
  server->watcher_ = *std::move(w);
  return server;
}

FakeDnsServer::~FakeDnsServer() {
  for (TimerHandle& t : pending_) t.Cancel();
  watcher_.Stop();
  close(fd_);
}

FakeDnsServer::Script& FakeDnsServer::ScriptFor(const std::string& name) {
  return scripts_[absl::AsciiStrToLower(name)];
}

void FakeDnsServer::AddA(const std::string& name, const std::string& ipv4, uint32_t ttl) {
  in_addr a;
  inet_pton(AF_INET, ipv4.c_str(), &a);
  ScriptFor(name).records.push_back({1, std::string(reinterpret_cast<char*>(&a), 4), ttl});
}
void FakeDnsServer::AddAAAA(const std::string& name, const std::string& ipv6, uint32_t ttl) {
  in6_addr a;
  inet_pton(AF_INET6, ipv6.c_str(), &a);
  ScriptFor(name).records.push_back({28, std::string(reinterpret_cast<char*>(&a), 16), ttl});
}
void FakeDnsServer::AddCname(const std::string& name, const std::string& target, uint32_t ttl) {
  ScriptFor(name).records.push_back({5, absl::AsciiStrToLower(target), ttl});
}
void FakeDnsServer::SetNxDomain(const std::string& name) { ScriptFor(name).rcode = 3; }
void FakeDnsServer::SetServFail(const std::string& name) { ScriptFor(name).rcode = 2; }
void FakeDnsServer::SetDelay(const std::string& name, absl::Duration d) { ScriptFor(name).delay = d; }
void FakeDnsServer::SetDrop(const std::string& name) { ScriptFor(name).drop = true; }
void FakeDnsServer::SetTruncated(const std::string& name) { ScriptFor(name).truncated = true; }
void FakeDnsServer::Clear(const std::string& name) { scripts_.erase(absl::AsciiStrToLower(name)); }

int FakeDnsServer::queries(const std::string& name) const {
  auto it = queries_.find(absl::AsciiStrToLower(name));
  return it == queries_.end() ? 0 : it->second;
}

void FakeDnsServer::OnReadable() {
  for (;;) {
    char buf[1500];
    sockaddr_storage from;
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return;  // EAGAIN: drained
    const std::string query(buf, static_cast<size_t>(n));
    if (query.size() < 12 || Get16(query, 4) != 1) continue;  // one question only
    // The question: labels, type, class.
    std::string qname;
    size_t at = 12;
    while (at < query.size() && query[at] != 0) {
      const size_t len = static_cast<unsigned char>(query[at]);
      if (at + 1 + len > query.size()) break;
      if (!qname.empty()) qname.push_back('.');
      qname.append(query, at + 1, len);
      at += 1 + len;
    }
    if (at + 5 > query.size()) continue;
    const uint16_t qtype = Get16(query, at + 1);
    qname = absl::AsciiStrToLower(qname);
    ++total_;
    ++queries_[qname];
    auto it = scripts_.find(qname);
    const Script* script = it == scripts_.end() ? nullptr : &it->second;
    if (script != nullptr && script->drop) continue;
    const std::string reply = Answer(query.substr(0, at + 5), qname, qtype, script);
    const absl::Duration delay = script != nullptr ? script->delay : absl::ZeroDuration();
    if (delay <= absl::ZeroDuration()) {
      sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    } else {
      pending_.push_back(loop_.CallLater(delay, [this, reply, from, from_len] {
        sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from),
               from_len);
      }));
    }
  }
}

std::string FakeDnsServer::Answer(const std::string& question, const std::string& qname,
                                  uint16_t qtype, const Script* script) const {
  // The answer section: follow CNAMEs (up to 8), then the records of the wanted type.
  std::vector<std::pair<std::string, Record>> answers;
  std::string name = qname;
  int rcode = script == nullptr ? 3 : script->rcode;
  for (int hops = 0; hops < 8 && rcode == 0; ++hops) {
    auto it = scripts_.find(name);
    if (it == scripts_.end()) {
      if (hops > 0) rcode = 3;  // a CNAME to nowhere
      break;
    }
    const Record* cname = nullptr;
    for (const Record& r : it->second.records) {
      if (r.type == 5) cname = &r;
    }
    if (cname != nullptr) {
      answers.push_back({name, *cname});
      name = cname->data;
      continue;
    }
    for (const Record& r : it->second.records) {
      if (r.type == qtype) answers.push_back({name, r});
    }
    break;
  }
  const bool truncated = script != nullptr && script->truncated;
  std::string out;
  Put16(&out, Get16(question, 0));                                  // id
  uint16_t flags = 0x8000 | 0x0400 | (Get16(question, 2) & 0x0100) | 0x0080;  // QR AA RD RA
  if (truncated) flags |= 0x0200;
  flags |= static_cast<uint16_t>(rcode & 0xF);
  Put16(&out, flags);
  Put16(&out, 1);  // qdcount
  Put16(&out, truncated ? 0 : static_cast<uint16_t>(answers.size()));
  Put16(&out, 0);
  Put16(&out, 0);
  out.append(question, 12, std::string::npos);  // the question as asked
  if (truncated) return out;
  for (const auto& [owner, r] : answers) {
    out += EncodeName(owner);
    Put16(&out, r.type);
    Put16(&out, 1);  // IN
    Put32(&out, r.ttl);
    const std::string rdata = r.type == 5 ? EncodeName(r.data) : r.data;
    Put16(&out, static_cast<uint16_t>(rdata.size()));
    out += rdata;
  }
  return out;
}

}  // namespace corio::testing
