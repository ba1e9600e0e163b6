// HostsFile: parsing hosts(5) text, lookups by family and case, re-reading a
// changed file, and a missing file that simply has no names.
#include "net/dns/hosts_file.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::dns_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Strings(const std::vector<SocketAddress>& addrs) {
  std::vector<std::string> out;
  for (const SocketAddress& a : addrs) out.push_back(a.IpString());
  return out;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(ParseHostsTest, NamesAliasesCommentsAndBadLines) {
  HostsMap m = ParseHosts(
      "# a comment line\n"
      "10.0.0.1   Alpha.Test alpha-alias  # trailing comment\n"
      "\tfd00::1\talpha.test.\r\n"
      "not-an-ip  broken.test\n"
      "10.0.0.2\n"
      "10.0.0.1 alpha.test\n");
  EXPECT_THAT(Strings(m["alpha.test"]), ElementsAre("10.0.0.1", "fd00::1"));
  EXPECT_THAT(Strings(m["alpha-alias"]), ElementsAre("10.0.0.1"));
  EXPECT_FALSE(m.contains("broken.test"));
  EXPECT_FALSE(m.contains("comment"));
  EXPECT_EQ(m.size(), 2u);
}

TEST(HostsFileTest, LookupByFamilyIpv6FirstIgnoringCaseAndTrailingDot) {
  const std::string path = TempPath("hosts_family");
  WriteFile(path, "10.0.0.1 box.test\nfd00::1 box.test\n10.0.0.2 box.test\n");
  HostsFile hosts(path);
  EXPECT_THAT(Strings(hosts.Lookup("BOX.test.", AF_UNSPEC)),
              ElementsAre("fd00::1", "10.0.0.1", "10.0.0.2"));
  EXPECT_THAT(Strings(hosts.Lookup("box.test", AF_INET)), ElementsAre("10.0.0.1", "10.0.0.2"));
  EXPECT_THAT(Strings(hosts.Lookup("box.test", AF_INET6)), ElementsAre("fd00::1"));
  EXPECT_THAT(hosts.Lookup("other.test", AF_UNSPEC), IsEmpty());
}

TEST(HostsFileTest, AChangedFileIsReadAgain) {
  const std::string path = TempPath("hosts_changed");
  WriteFile(path, "10.0.0.1 a.test\n");
  HostsFile hosts(path);
  EXPECT_THAT(Strings(hosts.Lookup("a.test", AF_UNSPEC)), ElementsAre("10.0.0.1"));
  WriteFile(path, "10.0.0.22 a.test\n10.0.0.3 b.test\n");  // a different size
  EXPECT_THAT(Strings(hosts.Lookup("a.test", AF_UNSPEC)), ElementsAre("10.0.0.22"));
  EXPECT_THAT(Strings(hosts.Lookup("b.test", AF_UNSPEC)), ElementsAre("10.0.0.3"));
  std::remove(path.c_str());
  EXPECT_THAT(hosts.Lookup("a.test", AF_UNSPEC), IsEmpty());
}

TEST(HostsFileTest, AMissingFileHasNoNames) {
  HostsFile hosts(TempPath("no_such_hosts_file"));
  EXPECT_THAT(hosts.Lookup("localhost", AF_UNSPEC), IsEmpty());
}

}  // namespace
}  // namespace corio::dns_internal
