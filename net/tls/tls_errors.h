// Internal to net/tls: what a failed OpenSSL handshake or record operation means, as an
// absl::Status that names the peer and gives OpenSSL's reason.
//
// Codes: UNAUTHENTICATED for certificate verification failures (ours) and certificate alerts
// (the peer's); UNAVAILABLE for everything else (protocol failures, "the peer does not speak
// TLS", the peer closing). Each function empties the thread's OpenSSL error queue.
// Threading: any thread (the error queue is per thread).
#ifndef CORIO_NET_TLS_TLS_ERRORS_H_
#define CORIO_NET_TLS_TLS_ERRORS_H_

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace corio::tls_internal {

// SSL_do_handshake failed with `ssl_error` (SSL_get_error, not WANT_READ). `who` is the peer
// ("localhost (127.0.0.1:8443)"); `system_store_empty` adds a hint to trust failures.
absl::Status HandshakeError(SSL* ssl, int ssl_error, absl::string_view who,
                            bool system_store_empty);

// SSL_read/SSL_write failed with `ssl_error` after the handshake: "tls read from <who>: ...".
absl::Status RecordError(int ssl_error, absl::string_view op, absl::string_view who);

}  // namespace corio::tls_internal

#endif  // CORIO_NET_TLS_TLS_ERRORS_H_
