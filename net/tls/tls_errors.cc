#include "net/tls/tls_errors.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "net/tls/openssl_util.h"

namespace corio::tls_internal {
namespace {

// The names a certificate is for (SANs, else its CN), for mismatch messages.
std::string CertificateNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_STRING* s = gn->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text)) {
        names.emplace_back(text);
      }
    }
  }
  GENERAL_NAMES_free(sans);
  if (names.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      names.emplace_back(cn);
    }
  }
  if (names.size() > 6) {
    const size_t more = names.size() - 5;
    names.resize(5);
    names.push_back(absl::StrCat("and ", more, " more"));
  }
  return names.empty() ? std::string("no name") : absl::StrJoin(names, ", ");
}

bool IsTrustError(long v) {
  return v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
         v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
}

bool IsCertificateAlert(int reason) {
  switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

// What OpenSSL says when the first bytes are not a TLS record at all.
bool IsNotTls(int reason) {
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_WRONG_SSL_VERSION:
      return true;
    default:
      return false;
  }
}

std::string VerifyDetail(SSL* ssl, bool system_store_empty) {
  const long v = SSL_get_verify_result(ssl);
  std::string detail = X509_verify_cert_error_string(v);
  if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    if (cert == nullptr && chain != nullptr && sk_X509_num(chain) > 0) {
      cert = sk_X509_value(chain, 0);
    }
    if (cert != nullptr) {
      absl::StrAppend(&detail, " (the certificate is for ", CertificateNames(cert), ")");
    }
  } else if (IsTrustError(v) && system_store_empty) {
    absl::StrAppend(&detail,
                    " (no system CA certificates were found: install the ca-certificates "
                    "package, or pass ca_file)");
  }
  return detail;
}

}  // namespace

absl::Status HandshakeError(SSL* ssl, int ssl_error, absl::string_view who,
                            bool system_store_empty) {
  const std::string prefix = absl::StrCat("tls handshake with ", who, ": ");
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    TakeErrors();
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer closed the connection during the handshake"));
  }
  const unsigned long first = ERR_peek_error();
  const std::string reasons = TakeErrors();
  if (ssl_error != SSL_ERROR_SSL || ERR_GET_LIB(first) != ERR_LIB_SSL) {
    return absl::UnavailableError(
        absl::StrCat(prefix, reasons.empty() ? "failed (no reason given)" : reasons));
  }
  const int reason = ERR_GET_REASON(first);
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return absl::UnauthenticatedError(
        absl::StrCat(prefix, "certificate verify failed: ", VerifyDetail(ssl, system_store_empty)));
  }
  if (IsCertificateAlert(reason)) {
    return absl::UnauthenticatedError(
        absl::StrCat(prefix, "the peer rejected the certificate: ", reasons));
  }
  if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer does not speak TLS: it sent a plain HTTP request"));
  }
  if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_UNSUPPORTED_PROTOCOL) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "no TLS version in common with the peer (", reasons, ")"));
  }
  if (IsNotTls(reason)) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer does not speak TLS (", reasons, ")"));
  }
  return absl::UnavailableError(absl::StrCat(prefix, reasons));
}

absl::Status RecordError(int ssl_error, absl::string_view op, absl::string_view who) {
  const std::string reasons = TakeErrors();
  return absl::UnavailableError(absl::StrCat(
      "tls ", op, " ", who, ": ",
      !reasons.empty() ? reasons : absl::StrCat("failed (SSL error ", ssl_error, ")")));
}

}  // namespace corio::tls_internal
