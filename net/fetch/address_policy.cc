#include "net/fetch/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace corio::fetch {
namespace {

using Bytes = std::array<uint8_t, 16>;

// Every address as 16 bytes: IPv6 as is, IPv4 as its IPv4-mapped form (::ffff:a.b.c.d), so one
// prefix comparison serves both families.
Bytes Canonical(const SocketAddress& a) {
  Bytes b{};
  if (a.is_v4()) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.sockaddr_ptr());
    b[10] = b[11] = 0xff;
    std::memcpy(&b[12], &in->sin_addr, 4);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.sockaddr_ptr());
    std::memcpy(b.data(), &in6->sin6_addr, 16);
  }
  return b;
}

bool PrefixMatches(const Bytes& net, int bits, const Bytes& addr) {
  const int whole = bits / 8;
  if (std::memcmp(net.data(), addr.data(), whole) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (net[whole] & mask) == (addr[whole] & mask);
}

std::string V4String(const uint8_t* four) {
  return absl::StrCat(four[0], ".", four[1], ".", four[2], ".", four[3]);
}

std::string V6String(const Bytes& b) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, b.data(), text, sizeof text);
  return text;
}

enum class Kind {
  kNever,      // never a unicast server address: refused even with private networks allowed
  kNonPublic,  // unicast, but not on the public internet
  kEmbedsV4,   // an IPv6 form carrying an IPv4 address: judged by that address
};

struct Range {
  const char* prefix;
  const char* name;
  Kind kind;
  int embed_offset;  // kEmbedsV4: where the IPv4 address sits in the 16 bytes
};

// Most specific first: the first match decides. Sources: the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and successors), RFC 4291, RFC 6052, RFC 8215,
// RFC 3056, RFC 4380, RFC 9637.
constexpr Range kRanges[] = {
    {"0.0.0.0/32", "unspecified", Kind::kNever, 0},
    {"0.0.0.0/8", "\"this network\"", Kind::kNever, 0},
    {"255.255.255.255/32", "broadcast", Kind::kNever, 0},
    {"10.0.0.0/8", "private", Kind::kNonPublic, 0},
    {"100.64.0.0/10", "shared address space (CGNAT)", Kind::kNonPublic, 0},
    {"127.0.0.0/8", "loopback", Kind::kNonPublic, 0},
    {"169.254.0.0/16", "link-local", Kind::kNonPublic, 0},
    {"172.16.0.0/12", "private", Kind::kNonPublic, 0},
    {"192.0.0.0/24", "IETF protocol assignments", Kind::kNonPublic, 0},
    {"192.0.2.0/24", "documentation (TEST-NET-1)", Kind::kNonPublic, 0},
    {"192.88.99.0/24", "6to4 relay anycast (deprecated)", Kind::kNonPublic, 0},
    {"192.168.0.0/16", "private", Kind::kNonPublic, 0},
    {"198.18.0.0/15", "benchmarking", Kind::kNonPublic, 0},
    {"198.51.100.0/24", "documentation (TEST-NET-2)", Kind::kNonPublic, 0},
    {"203.0.113.0/24", "documentation (TEST-NET-3)", Kind::kNonPublic, 0},
    {"224.0.0.0/4", "multicast", Kind::kNever, 0},
    {"240.0.0.0/4", "reserved", Kind::kNever, 0},

    {"::/128", "unspecified", Kind::kNever, 0},
    {"::1/128", "loopback", Kind::kNonPublic, 0},
    {"::ffff:0:0/96", "IPv4-mapped", Kind::kEmbedsV4, 12},
    {"::ffff:0:0:0/96", "IPv4-translated (SIIT)", Kind::kEmbedsV4, 12},
    {"::/96", "IPv4-compatible (deprecated)", Kind::kNonPublic, 0},
    {"64:ff9b::/96", "NAT64", Kind::kEmbedsV4, 12},
    {"64:ff9b:1::/48", "local-use NAT64", Kind::kNonPublic, 0},
    {"100::/64", "discard-only", Kind::kNonPublic, 0},
    {"2001::/32", "Teredo", Kind::kNonPublic, 0},
    {"2001:2::/48", "benchmarking", Kind::kNonPublic, 0},
    {"2001:db8::/32", "documentation", Kind::kNonPublic, 0},
    {"2001::/23", "IETF protocol assignments", Kind::kNonPublic, 0},
    {"2002::/16", "6to4", Kind::kEmbedsV4, 2},
    {"3fff::/20", "documentation", Kind::kNonPublic, 0},
    {"5f00::/16", "segment routing (SRv6) SIDs", Kind::kNonPublic, 0},
    {"fc00::/7", "unique local (ULA)", Kind::kNonPublic, 0},
    {"fe80::/10", "link-local", Kind::kNonPublic, 0},
    {"fec0::/10", "site-local (deprecated)", Kind::kNonPublic, 0},
    {"ff00::/8", "multicast", Kind::kNever, 0},
    // IPv6 outside these and outside 2000::/3 is unassigned or reserved (below).
};

struct ParsedRange {
  Cidr cidr;
  const Range* range;
};

const std::vector<ParsedRange>& Ranges() {
  static const std::vector<ParsedRange>* const ranges = [] {
    auto* out = new std::vector<ParsedRange>;
    for (const Range& r : kRanges) {
      Cidr c = *Cidr::Parse(r.prefix);  // constant, tested
      out->push_back({c, &r});
    }
    return out;
  }();
  return *ranges;
}

const Cidr& GlobalUnicast() {
  static const Cidr* const c = new Cidr(*Cidr::Parse("2000::/3"));
  return *c;
}

struct Verdict {
  std::string reason;
  bool never = false;
};

// The IPv4 address at b[offset..offset+4).
SocketAddress V4At(const Bytes& b, int offset) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  std::memcpy(&in.sin_addr, &b[offset], 4);
  return *SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
}

// Why `address` is not public unicast, or nullopt. An embedded IPv4 address is judged on its
// own (it is IPv4, so it cannot embed again).
std::optional<Verdict> Classify(const SocketAddress& address) {
  const Bytes b = Canonical(address);
  for (const ParsedRange& pr : Ranges()) {
    if (pr.cidr.is_v4() != address.is_v4() || !pr.cidr.Contains(address)) continue;
    const std::string name = absl::StrCat(pr.range->name, " (", pr.cidr.ToString(), ")");
    switch (pr.range->kind) {
      case Kind::kNever:
        return Verdict{name, true};
      case Kind::kNonPublic:
        return Verdict{name, false};
      case Kind::kEmbedsV4: {
        const SocketAddress inner = V4At(b, pr.range->embed_offset);
        std::optional<Verdict> v = Classify(inner);
        if (!v.has_value()) return std::nullopt;
        return Verdict{absl::StrCat(name, " ", V4String(&b[pr.range->embed_offset]), ": ",
                                    v->reason),
                       v->never};
      }
    }
  }
  if (address.is_v6() && !GlobalUnicast().Contains(address)) {
    return Verdict{absl::StrCat("not global unicast (outside ", GlobalUnicast().ToString(), ")"),
                   false};
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("CIDR \"", text, "\": ", why));
  };
  absl::string_view ip = text;
  int prefix = -1;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    ip = text.substr(0, slash);
    const absl::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(digits, &prefix)) {
      return bad("the prefix length is not a number");
    }
  }
  absl::StatusOr<SocketAddress> a = SocketAddress::FromIp(ip, 0);
  if (!a.ok()) return bad("not a numeric IPv4 or IPv6 address");
  Cidr c;
  c.v4_ = a->is_v4();
  const int max = c.v4_ ? 32 : 128;
  if (prefix < 0) prefix = max;
  if (prefix > max) return bad(absl::StrCat("prefix length over ", max));
  c.prefix_ = prefix;
  c.bytes_ = Canonical(*a);
  const int bits = c.v4_ ? 96 + prefix : prefix;
  Bytes masked{};
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(bits - 8 * i, 0, 8);
    masked[i] = keep == 0 ? 0 : static_cast<uint8_t>(c.bytes_[i] & (0xff << (8 - keep)));
  }
  if (masked != c.bytes_) {
    c.bytes_ = masked;
    return bad(absl::StrCat("address bits set past the prefix (the network is ", c.ToString(),
                            ")"));
  }
  return c;
}

bool Cidr::Contains(const SocketAddress& address) const {
  return PrefixMatches(bytes_, v4_ ? 96 + prefix_ : prefix_, Canonical(address));
}

std::string Cidr::ToString() const {
  return absl::StrCat(v4_ ? V4String(&bytes_[12]) : V6String(bytes_), "/", prefix_);
}

std::optional<std::string> NonPublicReason(const SocketAddress& address) {
  std::optional<Verdict> v = Classify(address);
  if (!v.has_value()) return std::nullopt;
  return std::move(v->reason);
}

bool IsNeverUnicast(const SocketAddress& address) {
  std::optional<Verdict> v = Classify(address);
  return v.has_value() && v->never;
}

absl::Status AddressPolicy::Check(const SocketAddress& address) const {
  auto refuse = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat("address ", address.ToString(), " refused by policy: ", why));
  };
  for (const Cidr& c : options_.deny) {
    if (c.Contains(address)) return refuse(absl::StrCat("in the deny list (", c.ToString(), ")"));
  }
  for (const Cidr& c : options_.allow) {
    if (c.Contains(address)) return absl::OkStatus();
  }
  std::optional<Verdict> v = Classify(address);
  if (!v.has_value()) return absl::OkStatus();
  if (options_.allow_private_networks && !v->never) return absl::OkStatus();
  return refuse(v->reason);
}

std::function<absl::Status(const SocketAddress&)> AddressPolicy::AsFilter() const {
  return [policy = *this](const SocketAddress& a) { return policy.Check(a); };
}

}  // namespace corio::fetch
