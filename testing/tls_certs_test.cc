#include "testing/tls_certs.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST(TlsCertsTest, MakesPemsAndFiles) {
  absl::StatusOr<TlsCerts> certs = TlsCerts::Create();
  ASSERT_THAT(certs, IsOk());
  EXPECT_THAT(certs->ca_pem(), StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(Slurp(certs->ca_file()), certs->ca_pem());
  EXPECT_EQ(Slurp(certs->server_cert_file()), certs->server().cert_pem);
  EXPECT_EQ(Slurp(certs->server_key_file()), certs->server().key_pem);
  EXPECT_THAT(certs->server().key_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
  for (const CertAndKey* c : {&certs->server(), &certs->self_signed(), &certs->unrelated_ca_leaf(),
                              &certs->expired(), &certs->wrong_name()}) {
    EXPECT_THAT(c->cert_pem, StartsWith("-----BEGIN CERTIFICATE-----"));
    EXPECT_THAT(c->key_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
  }
  // The unrelated leaf comes with its (unknown) CA: two certificates.
  const std::string& chain = certs->unrelated_ca_leaf().cert_pem;
  EXPECT_NE(chain.find("BEGIN CERTIFICATE", chain.find("END CERTIFICATE")), std::string::npos);
  // Each certificate is fresh.
  EXPECT_NE(certs->server().cert_pem, certs->expired().cert_pem);
  EXPECT_THAT(certs->server_names(), ::testing::ElementsAre("localhost", "127.0.0.1", "::1"));
}

TEST(TlsCertsTest, ExtraNamesAndIssue) {
  TlsCerts::Options options;
  options.names = {"corio.test", "10.1.2.3"};
  absl::StatusOr<TlsCerts> certs = TlsCerts::Create(options);
  ASSERT_THAT(certs, IsOk());
  EXPECT_THAT(certs->server_names(),
              ::testing::ElementsAre("localhost", "127.0.0.1", "::1", "corio.test", "10.1.2.3"));
  const absl::Time now = absl::Now();
  absl::StatusOr<CertAndKey> other =
      certs->Issue({"other.test"}, now - absl::Minutes(1), now + absl::Minutes(10));
  ASSERT_THAT(other, IsOk());
  absl::StatusOr<std::string> path = certs->WriteFile("other.pem", other->cert_pem);
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(Slurp(*path), other->cert_pem);
}

TEST(TlsCertsTest, TheDirectoryGoesWithTheObject) {
  std::string dir;
  {
    absl::StatusOr<TlsCerts> certs = TlsCerts::Create();
    ASSERT_THAT(certs, IsOk());
    TlsCerts moved = *std::move(certs);
    dir = moved.dir();
    EXPECT_TRUE(Exists(moved.ca_file()));
    EXPECT_THAT(moved.ca_file(), StartsWith(dir));
    ASSERT_THAT(moved.WriteFile("extra.txt", "x"), IsOk());
  }
  EXPECT_FALSE(Exists(dir));
}

}  // namespace
}  // namespace corio::testing
