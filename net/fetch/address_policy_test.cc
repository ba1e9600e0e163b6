#include "net/fetch/address_policy.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

SocketAddress Addr(const std::string& ip, uint16_t port = 80) {
  absl::StatusOr<SocketAddress> a = SocketAddress::FromIp(ip, port);
  EXPECT_TRUE(a.ok()) << ip;
  return a.ok() ? *a : SocketAddress();
}

struct Case {
  const char* ip;
  const char* reason;  // a substring of the refusal, or nullptr when public
  bool never = false;
};

// Each special range at its first and last address, and the public neighbours just outside it.
const Case kCases[] = {
    // 0.0.0.0/8, with 0.0.0.0 itself named "unspecified".
    {"0.0.0.0", "unspecified (0.0.0.0/32)", true},
    {"0.0.0.1", "\"this network\" (0.0.0.0/8)", true},
    {"0.255.255.255", "\"this network\" (0.0.0.0/8)", true},
    {"1.0.0.0", nullptr},
    {"1.1.1.1", nullptr},
    {"9.255.255.255", nullptr},
    {"10.0.0.0", "private (10.0.0.0/8)"},
    {"10.255.255.255", "private (10.0.0.0/8)"},
    {"11.0.0.0", nullptr},
    {"100.63.255.255", nullptr},
    {"100.64.0.0", "CGNAT) (100.64.0.0/10)"},
    {"100.127.255.255", "(100.64.0.0/10)"},
    {"100.128.0.0", nullptr},
    {"126.255.255.255", nullptr},
    {"127.0.0.0", "loopback (127.0.0.0/8)"},
    {"127.0.0.1", "loopback (127.0.0.0/8)"},
    {"127.1.2.3", "loopback (127.0.0.0/8)"},
    {"127.255.255.255", "loopback (127.0.0.0/8)"},
    {"128.0.0.0", nullptr},
    {"169.253.255.255", nullptr},
    {"169.254.0.0", "link-local (169.254.0.0/16)"},
    {"169.254.169.254", "link-local (169.254.0.0/16)"},
    {"169.254.255.255", "link-local (169.254.0.0/16)"},
    {"169.255.0.0", nullptr},
    {"172.15.255.255", nullptr},
    {"172.16.0.0", "private (172.16.0.0/12)"},
    {"172.31.255.255", "private (172.16.0.0/12)"},
    {"172.32.0.0", nullptr},
    {"191.255.255.255", nullptr},
    {"192.0.0.0", "IETF protocol assignments (192.0.0.0/24)"},
    {"192.0.0.255", "IETF protocol assignments (192.0.0.0/24)"},
    {"192.0.1.0", nullptr},
    {"192.0.2.0", "documentation (TEST-NET-1) (192.0.2.0/24)"},
    {"192.0.2.255", "(192.0.2.0/24)"},
    {"192.0.3.0", nullptr},
    {"192.88.98.255", nullptr},
    {"192.88.99.1", "6to4 relay anycast"},
    {"192.88.100.0", nullptr},
    {"192.167.255.255", nullptr},
    {"192.168.0.0", "private (192.168.0.0/16)"},
    {"192.168.255.255", "private (192.168.0.0/16)"},
    {"192.169.0.0", nullptr},
    {"198.17.255.255", nullptr},
    {"198.18.0.0", "benchmarking (198.18.0.0/15)"},
    {"198.19.255.255", "benchmarking (198.18.0.0/15)"},
    {"198.20.0.0", nullptr},
    {"198.51.99.255", nullptr},
    {"198.51.100.0", "(198.51.100.0/24)"},
    {"198.51.100.255", "documentation (TEST-NET-2)"},
    {"198.51.101.0", nullptr},
    {"203.0.112.255", nullptr},
    {"203.0.113.0", "documentation (TEST-NET-3) (203.0.113.0/24)"},
    {"203.0.113.255", "(203.0.113.0/24)"},
    {"203.0.114.0", nullptr},
    {"223.255.255.255", nullptr},
    {"224.0.0.0", "multicast (224.0.0.0/4)", true},
    {"239.255.255.255", "multicast (224.0.0.0/4)", true},
    {"240.0.0.0", "reserved (240.0.0.0/4)", true},
    {"255.255.255.254", "reserved (240.0.0.0/4)", true},
    {"255.255.255.255", "broadcast (255.255.255.255/32)", true},
    {"8.8.8.8", nullptr},
    {"93.184.216.34", nullptr},

    // IPv6.
    {"::", "unspecified (::/128)", true},
    {"::1", "loopback (::1/128)"},
    {"::2", "IPv4-compatible (deprecated) (::/96)"},
    {"::127.0.0.1", "IPv4-compatible (deprecated)"},
    {"::8.8.8.8", "IPv4-compatible (deprecated)"},
    {"::ffff:127.0.0.1", "IPv4-mapped (::ffff:0.0.0.0/96) 127.0.0.1: loopback (127.0.0.0/8)"},
    {"::ffff:10.1.2.3", "IPv4-mapped (::ffff:0.0.0.0/96) 10.1.2.3: private (10.0.0.0/8)"},
    {"::ffff:169.254.169.254", "169.254.169.254: link-local"},
    {"::ffff:0.0.0.0", "IPv4-mapped (::ffff:0.0.0.0/96) 0.0.0.0: unspecified", true},
    {"::ffff:224.0.0.1", "multicast", true},
    {"::ffff:8.8.8.8", nullptr},
    {"::ffff:0:127.0.0.1", "IPv4-translated (SIIT) (::ffff:0:0:0/96) 127.0.0.1: loopback"},
    {"::ffff:0:8.8.8.8", nullptr},
    {"64:ff9b::127.0.0.1", "NAT64 (64:ff9b::/96) 127.0.0.1: loopback"},
    {"64:ff9b::192.168.1.1", "NAT64 (64:ff9b::/96) 192.168.1.1: private"},
    {"64:ff9b::8.8.8.8", nullptr},  // NAT64 to a public address
    {"64:ff9b:1::1", "local-use NAT64 (64:ff9b:1::/48)"},
    {"100::", "discard-only (100::/64)"},
    {"100::ffff:ffff:ffff:ffff", "discard-only (100::/64)"},
    {"2001::1", "Teredo (2001::/32)"},
    {"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo (2001::/32)"},  // client 127.0.0.1
    {"2001:2::1", "benchmarking (2001:2::/48)"},
    {"2001:db8::", "documentation (2001:db8::/32)"},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation (2001:db8::/32)"},
    {"2001:10::1", "IETF protocol assignments (2001::/23)"},
    {"2001:1ff:ffff::1", "IETF protocol assignments (2001::/23)"},
    {"2001:200::1", nullptr},
    {"2002:7f00:1::1", "6to4 (2002::/16) 127.0.0.1: loopback"},
    {"2002:c0a8:101::1", "6to4 (2002::/16) 192.168.1.1: private"},
    {"2002:a9fe:a9fe::", "6to4 (2002::/16) 169.254.169.254: link-local"},
    {"2002:808:808::1", nullptr},
    {"2606:4700:4700::1111", nullptr},
    {"3ffe:ffff::1", nullptr},
    {"3fff::1", "documentation (3fff::/20)"},
    {"3fff:fff::1", "documentation (3fff::/20)"},
    {"3fff:1000::1", nullptr},
    {"5f00::1", "segment routing"},
    {"fc00::", "unique local (ULA) (fc00::/7)"},
    {"fd12:3456::1", "unique local (ULA) (fc00::/7)"},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local (ULA) (fc00::/7)"},
    {"fe80::", "link-local (fe80::/10)"},
    {"fe80::1", "link-local (fe80::/10)"},
    {"febf:ffff::1", "link-local (fe80::/10)"},
    {"fec0::1", "site-local (deprecated) (fec0::/10)"},
    {"ff00::", "multicast (ff00::/8)", true},
    {"ff02::1", "multicast (ff00::/8)", true},
    {"1fff:ffff::1", "not global unicast (outside 2000::/3)"},
    {"4000::1", "not global unicast (outside 2000::/3)"},
    {"2000::", nullptr},
    {"3fff:efff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
};

TEST(AddressPolicyTest, StrictPolicyAdmitsOnlyPublicUnicast) {
  AddressPolicy strict;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.ip);
    const SocketAddress a = Addr(c.ip, 8080);
    if (c.reason == nullptr) {
      EXPECT_THAT(strict.Check(a), IsOk());
      EXPECT_EQ(NonPublicReason(a), std::nullopt);
      EXPECT_FALSE(IsNeverUnicast(a));
    } else {
      EXPECT_THAT(strict.Check(a),
                  StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(c.reason)));
      ASSERT_TRUE(NonPublicReason(a).has_value());
      EXPECT_THAT(*NonPublicReason(a), HasSubstr(c.reason));
      EXPECT_EQ(IsNeverUnicast(a), c.never);
    }
  }
}

TEST(AddressPolicyTest, RefusalNamesAddressAndPort) {
  AddressPolicy strict;
  EXPECT_THAT(strict.Check(Addr("127.0.0.1", 8080)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "address 127.0.0.1:8080 refused by policy: loopback (127.0.0.0/8)"));
  EXPECT_THAT(strict.Check(Addr("169.254.169.254", 80)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("address 169.254.169.254:80 refused")));
  EXPECT_THAT(strict.Check(Addr("::ffff:127.0.0.1", 443)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("address [::ffff:127.0.0.1]:443 refused")));
}

TEST(AddressPolicyTest, AllowPrivateNetworksAdmitsUnicastButNotNeverUnicast) {
  AddressPolicy::Options o;
  o.allow_private_networks = true;
  AddressPolicy loose(o);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.ip);
    const absl::Status s = loose.Check(Addr(c.ip));
    if (c.never) {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(c.reason)));
    } else {
      EXPECT_THAT(s, IsOk());
    }
  }
}

TEST(AddressPolicyTest, AllowListAdmitsOnlyItsRanges) {
  AddressPolicy::Options o;
  o.allow = {*Cidr::Parse("10.1.0.0/16"), *Cidr::Parse("fd00:1::/32"),
             *Cidr::Parse("127.0.0.2")};
  AddressPolicy p(o);
  EXPECT_THAT(p.Check(Addr("10.1.0.0")), IsOk());
  EXPECT_THAT(p.Check(Addr("10.1.255.255")), IsOk());
  EXPECT_THAT(p.Check(Addr("::ffff:10.1.2.3")), IsOk());  // mapped form of an allowed v4
  EXPECT_THAT(p.Check(Addr("10.2.0.0")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("10.0.255.255")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("fd00:1:ffff::1")), IsOk());
  EXPECT_THAT(p.Check(Addr("fd00:2::1")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("127.0.0.2")), IsOk());
  EXPECT_THAT(p.Check(Addr("127.0.0.1")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("8.8.8.8")), IsOk());
}

TEST(AddressPolicyTest, DenyListWinsOverAllowAndPublic) {
  AddressPolicy::Options o;
  o.allow_private_networks = true;
  o.allow = {*Cidr::Parse("8.8.0.0/16")};
  o.deny = {*Cidr::Parse("8.8.8.0/24"), *Cidr::Parse("127.0.0.0/8")};
  AddressPolicy p(o);
  EXPECT_THAT(p.Check(Addr("8.8.8.8")),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "address 8.8.8.8:80 refused by policy: in the deny list (8.8.8.0/24)"));
  EXPECT_THAT(p.Check(Addr("8.8.4.4")), IsOk());
  EXPECT_THAT(p.Check(Addr("127.0.0.1")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("::ffff:127.0.0.1")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p.Check(Addr("10.0.0.1")), IsOk());
}

TEST(AddressPolicyTest, AsFilterOutlivesThePolicy) {
  std::function<absl::Status(const SocketAddress&)> filter;
  {
    AddressPolicy p;
    filter = p.AsFilter();
  }
  EXPECT_THAT(filter(Addr("127.0.0.1")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(filter(Addr("1.1.1.1")), IsOk());
}

TEST(CidrTest, ParsesAndPrintsCanonically) {
  EXPECT_EQ(Cidr::Parse("10.0.0.0/8")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->ToString(), "0.0.0.0/0");
  EXPECT_EQ(Cidr::Parse("1.2.3.4")->ToString(), "1.2.3.4/32");
  EXPECT_EQ(Cidr::Parse("FD00:0::/8")->ToString(), "fd00::/8");
  EXPECT_EQ(Cidr::Parse("::1")->ToString(), "::1/128");
  EXPECT_EQ(Cidr::Parse("::/0")->ToString(), "::/0");
  EXPECT_TRUE(Cidr::Parse("1.2.3.4")->is_v4());
  EXPECT_EQ(Cidr::Parse("1.2.3.4")->prefix_length(), 32);
  EXPECT_EQ(*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("10.0.0.0/8"));
}

TEST(CidrTest, RefusesMalformedText) {
  for (const char* bad : {"", "/", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
                          "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0/8", "example.com/8",
                          "10.0.0.0/ 8", "10.0.0.0/0008", "fe80::1%eth0/64", "1.2.3.4:80"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Cidr::Parse(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(Cidr::Parse("10.0.0.1/8"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("network is 10.0.0.0/8")));
  EXPECT_THAT(Cidr::Parse("fd00::1/8"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fd00::/8")));
}

TEST(CidrTest, ContainsAtEveryPrefixBoundary) {
  const Cidr v4 = *Cidr::Parse("172.16.0.0/12");
  EXPECT_TRUE(v4.Contains(Addr("172.16.0.0")));
  EXPECT_TRUE(v4.Contains(Addr("172.31.255.255")));
  EXPECT_FALSE(v4.Contains(Addr("172.32.0.0")));
  EXPECT_FALSE(v4.Contains(Addr("172.15.255.255")));
  EXPECT_FALSE(v4.Contains(Addr("::172.16.0.1")));  // IPv4-compatible is not the v4 address
  EXPECT_TRUE(v4.Contains(Addr("::ffff:172.16.0.1")));
  const Cidr all4 = *Cidr::Parse("0.0.0.0/0");
  EXPECT_TRUE(all4.Contains(Addr("255.255.255.255")));
  EXPECT_FALSE(all4.Contains(Addr("2001:db8::1")));
  const Cidr all6 = *Cidr::Parse("::/0");
  EXPECT_TRUE(all6.Contains(Addr("2001:db8::1")));
  const Cidr v6 = *Cidr::Parse("2001:db8:8000::/33");
  EXPECT_TRUE(v6.Contains(Addr("2001:db8:8000::")));
  EXPECT_TRUE(v6.Contains(Addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6.Contains(Addr("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
  for (int bits = 0; bits <= 32; ++bits) {
    SCOPED_TRACE(bits);
    const Cidr c = *Cidr::Parse("0.0.0.0/" + std::to_string(bits));
    EXPECT_TRUE(c.Contains(Addr("0.0.0.0")));
    // The first address outside: bit `bits` set (counting from the top).
    if (bits > 0 && bits <= 32) {
      const uint32_t outside = 1u << (32 - bits);
      const std::string ip = std::to_string(outside >> 24) + "." +
                             std::to_string((outside >> 16) & 255) + "." +
                             std::to_string((outside >> 8) & 255) + "." +
                             std::to_string(outside & 255);
      EXPECT_FALSE(c.Contains(Addr(ip))) << ip;
      const uint32_t inside = outside - 1;
      const std::string in_ip = std::to_string(inside >> 24) + "." +
                                std::to_string((inside >> 16) & 255) + "." +
                                std::to_string((inside >> 8) & 255) + "." +
                                std::to_string(inside & 255);
      EXPECT_TRUE(c.Contains(Addr(in_ip))) << in_ip;
    }
  }
}

}  // namespace
}  // namespace corio::fetch
