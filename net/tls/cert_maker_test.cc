#include "net/tls/cert_maker.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tls/openssl_util.h"
#include "testing/status_matchers.h"

namespace corio::tls {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using tls_internal::OpenSslPtr;

OpenSslPtr<X509> ParseCert(const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return OpenSslPtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

OpenSslPtr<EVP_PKEY> ParseKey(const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return OpenSslPtr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `leaf` against `ca` as the only trusted root; the X509_V_* result.
int Verify(X509* leaf, X509* ca) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  const int ok = X509_verify_cert(ctx);
  const int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return err;
}

class CertMakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Time now = absl::Now();
    absl::StatusOr<CertAndKey> ca =
        MakeCertificate({"test CA", {}, now - absl::Hours(1), now + absl::Hours(1), true});
    ASSERT_THAT(ca, IsOk());
    ca_ = *ca;
  }
  CertAndKey ca_;
};

TEST_F(CertMakerTest, LeafSignedByCaVerifiesForItsNames) {
  const absl::Time now = absl::Now();
  absl::StatusOr<CertAndKey> leaf = MakeCertificate(
      {"localhost", {"localhost", "127.0.0.1", "::1"}, now - absl::Hours(1), now + absl::Hours(1)},
      &ca_);
  ASSERT_THAT(leaf, IsOk());
  EXPECT_THAT(leaf->cert_pem, ::testing::StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(leaf->key_pem, ::testing::StartsWith("-----BEGIN PRIVATE KEY-----"));
  auto cert = ParseCert(leaf->cert_pem);
  auto ca = ParseCert(ca_.cert_pem);
  auto key = ParseKey(leaf->key_pem);
  ASSERT_TRUE(cert && ca && key);
  EXPECT_EQ(Verify(cert.get(), ca.get()), X509_V_OK);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "example.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.2", 0), 0);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
}

TEST_F(CertMakerTest, ValidityIsAsAsked) {
  const absl::Time now = absl::Now();
  absl::StatusOr<CertAndKey> expired =
      MakeCertificate({"old", {"old.example"}, now - absl::Hours(48), now - absl::Hours(24)}, &ca_);
  ASSERT_THAT(expired, IsOk());
  auto cert = ParseCert(expired->cert_pem);
  auto ca = ParseCert(ca_.cert_pem);
  EXPECT_EQ(Verify(cert.get(), ca.get()), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(CertMakerTest, SelfSignedIsNotTrustedByAnotherCa) {
  const absl::Time now = absl::Now();
  absl::StatusOr<CertAndKey> self_signed =
      MakeCertificate({"self", {"localhost"}, now - absl::Hours(1), now + absl::Hours(1)});
  ASSERT_THAT(self_signed, IsOk());
  auto cert = ParseCert(self_signed->cert_pem);
  auto ca = ParseCert(ca_.cert_pem);
  EXPECT_EQ(Verify(cert.get(), ca.get()), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(Verify(cert.get(), cert.get()), X509_V_OK);  // trusted as itself
}

TEST_F(CertMakerTest, BadInput) {
  const absl::Time now = absl::Now();
  EXPECT_THAT(MakeCertificate({"", {}, now, now + absl::Hours(1)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeCertificate({"x", {""}, now, now + absl::Hours(1)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  CertAndKey garbage{"not a certificate", "not a key"};
  EXPECT_THAT(MakeCertificate({"x", {"x"}, now, now + absl::Hours(1)}, &garbage),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("issuer")));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace corio::tls
