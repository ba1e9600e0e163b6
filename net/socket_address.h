// SocketAddress: an IPv4 or IPv6 address with a port, the value TCP and DNS pass around.
//
//   CORIO_ASSIGN_OR_RETURN(corio::SocketAddress a, corio::SocketAddress::Parse("127.0.0.1:8080"));
//   CORIO_ASSIGN_OR_RETURN(corio::SocketAddress b, corio::SocketAddress::Parse("[::1]:443"));
//   a.ToString();               // "127.0.0.1:8080"; IPv6 as "[::1]:443"
//   connect(fd, a.sockaddr(), a.socklen());
//
// Errors: INVALID_ARGUMENT naming the text and what is wrong with it.
#ifndef CORIO_NET_SOCKET_ADDRESS_H_
#define CORIO_NET_SOCKET_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corio {

class SocketAddress {
 public:
  SocketAddress();  // 0.0.0.0:0

  // "a.b.c.d:port" or "[v6]:port".
  static absl::StatusOr<SocketAddress> Parse(absl::string_view text);
  // A numeric IP (v4 or v6, no brackets) and a port.
  static absl::StatusOr<SocketAddress> FromIp(absl::string_view ip, uint16_t port);
  static SocketAddress Loopback4(uint16_t port);
  static SocketAddress Loopback6(uint16_t port);
  // From a kernel address (AF_INET / AF_INET6); INVALID_ARGUMENT for other families.
  static absl::StatusOr<SocketAddress> FromSockaddr(const sockaddr* sa, socklen_t len);
  // The local address a socket is bound to (getsockname), e.g. to learn the port the kernel
  // picked for port 0.
  static absl::StatusOr<SocketAddress> LocalOf(int fd);

  int family() const { return storage_.ss_family; }
  bool is_v4() const { return family() == AF_INET; }
  bool is_v6() const { return family() == AF_INET6; }
  uint16_t port() const;
  void set_port(uint16_t port);
  std::string IpString() const;  // "127.0.0.1", "::1"
  std::string ToString() const;  // "127.0.0.1:80", "[::1]:80"

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t socklen() const { return is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }

  bool operator==(const SocketAddress& o) const;
  bool operator!=(const SocketAddress& o) const { return !(*this == o); }

 private:
  sockaddr_storage storage_;
};

}  // namespace corio

#endif  // CORIO_NET_SOCKET_ADDRESS_H_
