#include "net/tls/cert_maker.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "net/tls/openssl_util.h"

namespace corio::tls {
namespace {

using tls_internal::OpenSslPtr;
using tls_internal::OpenSslStatus;

bool IsIpLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

absl::Status Internal(absl::string_view what) {
  return OpenSslStatus(absl::StatusCode::kInternal, absl::StrCat("make certificate: ", what));
}

// Adds one X.509v3 extension given in openssl.cnf syntax ("critical,CA:TRUE").
absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  OpenSslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal(absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("random serial");
  bytes[0] &= 0x7f;  // positive
  bytes[0] |= 0x01;  // and never zero
  OpenSslPtr<BIGNUM> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return Internal("serial number");
  }
  return absl::OkStatus();
}

absl::Status SetName(X509_NAME* name, const std::string& common_name) {
  const auto* org = reinterpret_cast<const unsigned char*>("corio throwaway test certificate");
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    return Internal("subject name");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) return Internal("PEM encode");
  return tls_internal::BioContents(bio.get());
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal("PEM encode key");
  }
  return tls_internal::BioContents(bio.get());
}

}  // namespace

absl::StatusOr<CertAndKey> MakeCertificate(const CertSpec& spec, const CertAndKey* issuer) {
  tls_internal::ErrorQueueScope errors;
  if (spec.common_name.empty()) {
    return absl::InvalidArgumentError("make certificate: empty common name");
  }
  for (const std::string& name : spec.names) {
    if (name.empty()) return absl::InvalidArgumentError("make certificate: empty name");
  }

  // The issuer's certificate and key, parsed back from PEM.
  OpenSslPtr<X509> issuer_cert;
  OpenSslPtr<EVP_PKEY> issuer_key;
  if (issuer != nullptr) {
    OpenSslPtr<BIO> cert_bio(
        BIO_new_mem_buf(issuer->cert_pem.data(), static_cast<int>(issuer->cert_pem.size())));
    OpenSslPtr<BIO> key_bio(
        BIO_new_mem_buf(issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size())));
    if (cert_bio && key_bio) {
      issuer_cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
      issuer_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    }
    if (issuer_cert == nullptr || issuer_key == nullptr) {
      return OpenSslStatus(absl::StatusCode::kInvalidArgument,
                           "make certificate: cannot parse the issuer's PEM");
    }
  }

  OpenSslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (key == nullptr) return Internal("generate a P-256 key");

  OpenSslPtr<X509> cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Internal("new certificate");
  }
  if (absl::Status s = SetRandomSerial(cert.get()); !s.ok()) return s;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(spec.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(spec.not_after)) == nullptr) {
    return Internal("validity");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return Internal("public key");
  if (absl::Status s = SetName(X509_get_subject_name(cert.get()), spec.common_name); !s.ok()) {
    return s;
  }
  X509* signer_cert = issuer_cert != nullptr ? issuer_cert.get() : cert.get();
  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key.get() : key.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) != 1) {
    return Internal("issuer name");
  }

  std::vector<std::pair<int, std::string>> extensions;
  if (spec.is_ca) {
    extensions.push_back({NID_basic_constraints, "critical,CA:TRUE"});
    extensions.push_back({NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"});
  } else {
    extensions.push_back({NID_basic_constraints, "critical,CA:FALSE"});
    extensions.push_back({NID_key_usage, "critical,digitalSignature"});
    extensions.push_back({NID_ext_key_usage, "serverAuth,clientAuth"});
  }
  extensions.push_back({NID_subject_key_identifier, "hash"});
  if (issuer_cert != nullptr) extensions.push_back({NID_authority_key_identifier, "keyid:always"});
  if (!spec.names.empty()) {
    std::vector<std::string> sans;
    for (const std::string& name : spec.names) {
      sans.push_back(absl::StrCat(IsIpLiteral(name) ? "IP:" : "DNS:", name));
    }
    extensions.push_back({NID_subject_alt_name, absl::StrJoin(sans, ",")});
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(cert.get(), signer_cert, nid, value); !s.ok()) return s;
  }

  if (X509_sign(cert.get(), signer_key, EVP_sha256()) == 0) return Internal("sign");

  absl::StatusOr<std::string> cert_pem = ToPem(cert.get());
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ToPem(key.get());
  if (!key_pem.ok()) return key_pem.status();
  return CertAndKey{*std::move(cert_pem), *std::move(key_pem)};
}

}  // namespace corio::tls
