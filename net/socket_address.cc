#include "net/socket_address.h"

#include <arpa/inet.h>
#include <errno.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace corio {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("address \"", text, "\": ", why));
}

}  // namespace

SocketAddress::SocketAddress() {
  std::memset(&storage_, 0, sizeof storage_);
  storage_.ss_family = AF_INET;
}

absl::StatusOr<SocketAddress> SocketAddress::FromIp(absl::string_view ip, uint16_t port) {
  SocketAddress a;
  const std::string s(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return a;
  }
  std::memset(&a.storage_, 0, sizeof a.storage_);
  if (inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return a;
  }
  return Bad(ip, "not a numeric IPv4 or IPv6 address");
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view text) {
  absl::string_view ip, port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return Bad(text, "unterminated IPv6 address");
    ip = text.substr(1, close - 1);
    const absl::string_view rest = text.substr(close + 1);
    if (rest.size() < 2 || rest.front() != ':') return Bad(text, "expected :port after ]");
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return Bad(text, "missing :port");
    ip = text.substr(0, colon);
    if (ip.find(':') != absl::string_view::npos) {
      return Bad(text, "IPv6 addresses need brackets: [addr]:port");
    }
    port_text = text.substr(colon + 1);
  }
  uint32_t port;
  if (port_text.empty() || port_text.size() > 5 || !absl::SimpleAtoi(port_text, &port) ||
      port > 65535 || !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit)) {
    return Bad(text, absl::StrCat("invalid port \"", port_text, "\""));
  }
  absl::StatusOr<SocketAddress> a = FromIp(ip, static_cast<uint16_t>(port));
  if (!a.ok()) return Bad(text, "not a numeric IPv4 or IPv6 address");
  return a;
}

SocketAddress SocketAddress::Loopback4(uint16_t port) { return *FromIp("127.0.0.1", port); }
SocketAddress SocketAddress::Loopback6(uint16_t port) { return *FromIp("::1", port); }

absl::StatusOr<SocketAddress> SocketAddress::FromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
    return a;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported address family ", sa->sa_family));
}

absl::StatusOr<SocketAddress> SocketAddress::LocalOf(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("getsockname fd ", fd));
  }
  return FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

uint16_t SocketAddress::port() const {
  return ntohs(is_v4() ? reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port
                       : reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
}

void SocketAddress::set_port(uint16_t port) {
  if (is_v4()) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

std::string SocketAddress::IpString() const {
  char buf[INET6_ADDRSTRLEN];
  const void* addr = is_v4()
                         ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr)
                         : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
  inet_ntop(family(), addr, buf, sizeof buf);
  return buf;
}

std::string SocketAddress::ToString() const {
  return is_v4() ? absl::StrCat(IpString(), ":", port())
                 : absl::StrCat("[", IpString(), "]:", port());
}

bool SocketAddress::operator==(const SocketAddress& o) const {
  if (family() != o.family() || port() != o.port()) return false;
  if (is_v4()) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr,
                       &reinterpret_cast<const sockaddr_in*>(&o.storage_)->sin_addr,
                       sizeof(in_addr)) == 0;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(&o.storage_)->sin6_addr,
                     sizeof(in6_addr)) == 0;
}

}  // namespace corio
