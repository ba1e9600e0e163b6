// AddressPolicy: which IP addresses a service that fetches URLs for others may connect to —
// the SSRF defence of the fetch service. By default only public unicast addresses pass:
// loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast, broadcast, unspecified,
// documentation, benchmarking and the other special-purpose ranges of the IANA registries are
// refused, in IPv4, in IPv6, and in IPv6 forms that carry an IPv4 address (IPv4-mapped,
// IPv4-compatible, SIIT, NAT64, 6to4, Teredo).
//
//   corio::fetch::AddressPolicy policy;                       // the strict default
//   policy.Check(*corio::SocketAddress::Parse("127.0.0.1:80"));
//   // PERMISSION_DENIED: "address 127.0.0.1:80 refused by policy: loopback (127.0.0.0/8)"
//
//   corio::fetch::AddressPolicy::Options o;
//   o.allow = {*corio::fetch::Cidr::Parse("10.1.0.0/16")};   // a trusted subnet
//   connect_options.address_filter = corio::fetch::AddressPolicy(o).AsFilter();
//
// Order of the checks: `deny` CIDRs refuse; then `allow` CIDRs admit; then, with
// `allow_private_networks`, every unicast address passes (multicast, broadcast, unspecified,
// 0.0.0.0/8 and 240.0.0.0/4 still fail: they are never a server); otherwise only public
// unicast passes. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 CIDRs.
//
// Threading: a policy is immutable; Check may be called from any thread at once.
// Errors: Check returns PERMISSION_DENIED whose message names the address and the range.
// Cidr::Parse returns INVALID_ARGUMENT naming the text.
#ifndef CORIO_NET_FETCH_ADDRESS_POLICY_H_
#define CORIO_NET_FETCH_ADDRESS_POLICY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/socket_address.h"

namespace corio::fetch {

// An IPv4 or IPv6 prefix: "10.0.0.0/8", "fd00::/8"; a bare address is a /32 or /128.
class Cidr {
 public:
  static absl::StatusOr<Cidr> Parse(absl::string_view text);

  bool is_v4() const { return v4_; }
  int prefix_length() const { return prefix_; }
  // True when `address`'s IP lies in the prefix (the port is ignored). An IPv4 prefix also
  // contains the IPv4-mapped IPv6 forms of its addresses.
  bool Contains(const SocketAddress& address) const;
  std::string ToString() const;  // canonical: "10.0.0.0/8", "fd00::/8"

  bool operator==(const Cidr& o) const {
    return v4_ == o.v4_ && prefix_ == o.prefix_ && bytes_ == o.bytes_;
  }

 private:
  bool v4_ = true;
  int prefix_ = 0;
  std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4 bytes; host bits zero
};

// Why `address` is not a public unicast address ("loopback (127.0.0.0/8)", "IPv4-mapped
// (::ffff:0:0/96) 10.0.0.1: private (10.0.0.0/8)"), or nullopt when it is one.
std::optional<std::string> NonPublicReason(const SocketAddress& address);

// True for addresses that can never be a TCP server's address (multicast, broadcast,
// unspecified, 0.0.0.0/8, 240.0.0.0/4, and the IPv6 forms of those): refused even when
// private networks are allowed.
bool IsNeverUnicast(const SocketAddress& address);

class AddressPolicy {
 public:
  struct Options {
    // Admit every unicast address (loopback, private, link-local, ...): for tests and
    // deployments that fetch from their own network on purpose.
    bool allow_private_networks = false;
    // Admitted even when non-public (checked after `deny`).
    std::vector<Cidr> allow;
    // Refused even when public (checked first).
    std::vector<Cidr> deny;
  };

  AddressPolicy() = default;  // strict: public unicast only
  explicit AddressPolicy(Options options) : options_(std::move(options)) {}

  // OK, or PERMISSION_DENIED naming the address, the port and why.
  absl::Status Check(const SocketAddress& address) const;

  // The policy as a ConnectOptions::address_filter (a copy of it; outlives this object).
  std::function<absl::Status(const SocketAddress&)> AsFilter() const;

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_ADDRESS_POLICY_H_
