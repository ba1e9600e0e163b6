#include "net/tls/tls_context.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/tls_certs.h"

namespace corio::tls {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::corio::testing::TlsCerts;
using ::testing::HasSubstr;

const TlsCerts& Certs() {
  static const TlsCerts certs = TlsCerts::Create().value();
  return certs;
}

TEST(TlsContextTest, ClientDefaults) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateClient();
  ASSERT_THAT(ctx, IsOk());
  EXPECT_FALSE((*ctx)->is_server());
  EXPECT_FALSE((*ctx)->insecure());
  EXPECT_EQ((*ctx)->cached_sessions(), 0u);
}

TEST(TlsContextTest, ClientTrustOptions) {
  ClientOptions file;
  file.ca_file = Certs().ca_file();
  EXPECT_THAT(TlsContext::CreateClient(file), IsOk());
  ClientOptions pem;
  pem.ca_pem = Certs().ca_pem() + Certs().unrelated_ca_leaf().cert_pem;  // several certificates
  EXPECT_THAT(TlsContext::CreateClient(pem), IsOk());
  ClientOptions insecure;
  insecure.insecure = true;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateClient(insecure);
  ASSERT_THAT(ctx, IsOk());
  EXPECT_TRUE((*ctx)->insecure());
}

TEST(TlsContextTest, ClientBadOptions) {
  ClientOptions missing;
  missing.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(TlsContext::CreateClient(missing),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ca_file /nonexistent/ca.pem: No such file")));
  ClientOptions garbage;
  garbage.ca_pem = "not a certificate";
  EXPECT_THAT(TlsContext::CreateClient(garbage),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ca_pem")));
  ClientOptions versions;
  versions.min_version = TlsVersion::kTls13;
  versions.max_version = TlsVersion::kTls12;
  EXPECT_THAT(TlsContext::CreateClient(versions),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_version")));
  ClientOptions alpn;
  alpn.alpn = {"http/1.1", ""};
  EXPECT_THAT(TlsContext::CreateClient(alpn),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ALPN")));
}

TEST(TlsContextTest, Server) {
  ServerOptions options;
  options.cert_pem = Certs().server().cert_pem;
  options.key_pem = Certs().server().key_pem;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateServer(options);
  ASSERT_THAT(ctx, IsOk());
  EXPECT_TRUE((*ctx)->is_server());
  ServerOptions files;
  files.cert_file = Certs().server_cert_file();
  files.key_file = Certs().server_key_file();
  EXPECT_THAT(TlsContext::CreateServer(files), IsOk());
  ServerOptions chain;  // leaf + intermediate
  chain.cert_pem = Certs().unrelated_ca_leaf().cert_pem;
  chain.key_pem = Certs().unrelated_ca_leaf().key_pem;
  EXPECT_THAT(TlsContext::CreateServer(chain), IsOk());
}

TEST(TlsContextTest, ServerBadOptions) {
  EXPECT_THAT(TlsContext::CreateServer({}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert_pem")));
  ServerOptions mismatched;
  mismatched.cert_pem = Certs().server().cert_pem;
  mismatched.key_pem = Certs().self_signed().key_pem;
  EXPECT_THAT(TlsContext::CreateServer(mismatched),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
  ServerOptions garbage;
  garbage.cert_pem = "garbage";
  garbage.key_pem = Certs().server().key_pem;
  EXPECT_THAT(TlsContext::CreateServer(garbage),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert_pem")));
  ServerOptions bad_key;
  bad_key.cert_pem = Certs().server().cert_pem;
  bad_key.key_pem = "garbage";
  EXPECT_THAT(TlsContext::CreateServer(bad_key),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key_pem")));
  ServerOptions missing;
  missing.cert_file = "/nonexistent/cert.pem";
  missing.key_file = "/nonexistent/key.pem";
  EXPECT_THAT(TlsContext::CreateServer(missing),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/nonexistent/cert.pem")));
}

// One context, many threads: the session cache is locked (run under TSan).
TEST(TlsContextTest, SharedAcrossThreads) {
  std::shared_ptr<TlsContext> ctx = TlsContext::CreateClient().value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([ctx] {
      for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(ctx->cached_sessions(), 0u);
        ctx->ClearSessionCache();
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace corio::tls
