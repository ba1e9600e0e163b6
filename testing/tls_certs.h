// TlsCerts: throwaway TLS certificates for tests and demos, made when asked (EC P-256 keys,
// valid from an hour ago for a day by default), so no key and nothing that expires is checked
// in. One private CA and a server certificate it signed for localhost, 127.0.0.1, ::1 and the
// caller's names, plus the bad certificates TLS clients must refuse.
//
//   CORIO_ASSIGN_OR_RETURN(corio::testing::TlsCerts certs, corio::testing::TlsCerts::Create());
//   auto server_ctx = corio::tls::TlsContext::CreateServer(
//       {.cert_pem = certs.server().cert_pem, .key_pem = certs.server().key_pem});
//   auto client_ctx = corio::tls::TlsContext::CreateClient({.ca_file = certs.ca_file()});
//                                                    // or {.ca_pem = certs.ca_pem()}
//
// Not testonly (the fetch command's --demo serves with it); no gtest dependency.
// Threading: the accessors may be called from any thread; WriteFile from one at a time.
// Ownership: the files live in a fresh temporary directory ($TEST_TMPDIR, else $TMPDIR, else
// /tmp) that the object removes when destroyed; moving it moves the directory's ownership.
// Errors: Create fails with INTERNAL (OpenSSL or the file system, with the reason).
#ifndef CORIO_TESTING_TLS_CERTS_H_
#define CORIO_TESTING_TLS_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/tls/cert_maker.h"

namespace corio::testing {

using ::corio::tls::CertAndKey;

class TlsCerts {
 public:
  struct Options {
    // Names (DNS names or IP literals) the server certificate carries besides localhost,
    // 127.0.0.1 and ::1.
    std::vector<std::string> names;
    // Validity of the good certificates, counted from an hour ago.
    absl::Duration validity = absl::Hours(25);
  };

  static absl::StatusOr<TlsCerts> Create();
  static absl::StatusOr<TlsCerts> Create(Options options);

  TlsCerts(TlsCerts&& other) noexcept;
  TlsCerts& operator=(TlsCerts&& other) noexcept;
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;
  ~TlsCerts();

  // The private CA: trust it with ClientOptions::ca_pem or ::ca_file.
  const std::string& ca_pem() const { return ca_.cert_pem; }
  const std::string& ca_file() const { return ca_file_; }
  // Signed by the CA, for localhost, 127.0.0.1, ::1 and Options::names.
  const CertAndKey& server() const { return server_; }
  const std::string& server_cert_file() const { return server_cert_file_; }
  const std::string& server_key_file() const { return server_key_file_; }
  // The server's names, in the order the certificate lists them.
  const std::vector<std::string>& server_names() const { return names_; }

  // Certificates a verifying client must refuse (all for localhost, 127.0.0.1 and ::1 unless
  // said otherwise):
  const CertAndKey& self_signed() const { return self_signed_; }  // no CA at all
  // Signed by another CA nobody trusts; cert_pem holds the leaf and that CA (a full chain).
  const CertAndKey& unrelated_ca_leaf() const { return unrelated_; }
  const CertAndKey& expired() const { return expired_; }        // CA-signed, expired
  const CertAndKey& wrong_name() const { return wrong_name_; }  // CA-signed, "wrong.example" only

  // Another certificate signed by the CA, for `names`, valid in [not_before, not_after).
  absl::StatusOr<CertAndKey> Issue(const std::vector<std::string>& names, absl::Time not_before,
                                   absl::Time not_after) const;
  // Writes `contents` to `name` in the temporary directory; returns the path.
  absl::StatusOr<std::string> WriteFile(const std::string& name, const std::string& contents) const;
  const std::string& dir() const { return dir_; }

 private:
  TlsCerts() = default;
  void RemoveDir();

  std::string dir_;
  std::vector<std::string> names_;
  CertAndKey ca_, server_, self_signed_, unrelated_, expired_, wrong_name_;
  std::string ca_file_, server_cert_file_, server_key_file_;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_TLS_CERTS_H_
