// CertMaker: makes throwaway X.509 certificates and EC P-256 keys with the OpenSSL API, for
// tests and demos (`//testing:tls_certs` builds its CA and leaves on it). Nothing here is meant
// for production PKI: keys are generated fresh, never stored unless the caller writes them.
//
//   absl::Time now = absl::Now();
//   CORIO_ASSIGN_OR_RETURN(corio::tls::CertAndKey ca, corio::tls::MakeCertificate(
//       {.common_name = "corio test CA", .not_before = now - absl::Hours(1),
//        .not_after = now + absl::Hours(24), .is_ca = true}));
//   CORIO_ASSIGN_OR_RETURN(corio::tls::CertAndKey leaf, corio::tls::MakeCertificate(
//       {.common_name = "localhost", .names = {"localhost", "127.0.0.1", "::1"},
//        .not_before = now - absl::Hours(1), .not_after = now + absl::Hours(24)}, &ca));
//
// Threading: any thread. Ownership: plain values.
// Errors: INVALID_ARGUMENT for an unparsable issuer or an empty name; INTERNAL when OpenSSL
// fails, with its reason.
#ifndef CORIO_NET_TLS_CERT_MAKER_H_
#define CORIO_NET_TLS_CERT_MAKER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace corio::tls {

// A certificate (chain: the leaf first, then intermediates) and its private key, PEM-encoded.
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted
};

struct CertSpec {
  std::string common_name;
  // Subject alternative names: IP literals ("127.0.0.1", "::1") become IP SANs, anything else
  // a DNS SAN ("localhost", "*.example.test").
  std::vector<std::string> names;
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;  // a CA certificate (basicConstraints CA:TRUE, keyCertSign)
};

// A fresh EC P-256 key and a certificate for it, signed by `issuer` (a CA made here), or
// self-signed when `issuer` is null. Leaves carry serverAuth and clientAuth usages.
absl::StatusOr<CertAndKey> MakeCertificate(const CertSpec& spec,
                                           const CertAndKey* issuer = nullptr);

}  // namespace corio::tls

#endif  // CORIO_NET_TLS_CERT_MAKER_H_
