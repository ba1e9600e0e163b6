// Internal helpers of net/tls around OpenSSL 3: owning pointers, and the thread-local error
// queue turned into messages. Not a public API (visibility: //net/tls only).
//
// Threading: any thread; OpenSSL's error queue is per thread.
// Errors: OpenSslStatus() turns the queue into a Status with OpenSSL's reason and empties it,
// so no error leaks into the next operation on this thread.
#ifndef CORIO_NET_TLS_OPENSSL_UTIL_H_
#define CORIO_NET_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace corio::tls_internal {

struct OpenSslDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

// Empties this thread's OpenSSL error queue when constructed and when destroyed: wrap every
// sequence of OpenSSL calls whose errors are read (or must not be seen by anyone else).
class ErrorQueueScope {
 public:
  ErrorQueueScope() { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

// The reasons in this thread's error queue, oldest first, joined with "; " (deduplicated), and
// the queue emptied. "" when it was empty.
std::string TakeErrors();

// Status(code, "<what>: <reasons>") (or "<what>: unknown OpenSSL error"), the queue emptied.
absl::Status OpenSslStatus(absl::StatusCode code, absl::string_view what);

// The contents of a memory BIO.
std::string BioContents(BIO* bio);

}  // namespace corio::tls_internal

#endif  // CORIO_NET_TLS_OPENSSL_UTIL_H_
