// TlsContext: the TLS configuration TlsStreams are made from (OpenSSL's SSL_CTX), client or
// server. A client context also holds the session cache that lets new connections to a host
// resume an earlier session instead of paying a full handshake.
//
//   // Client: verifies against the system's CA store (/etc/ssl/certs), ALPN http/1.1.
//   CORIO_ASSIGN_OR_RETURN(std::shared_ptr<corio::tls::TlsContext> ctx,
//                          corio::tls::TlsContext::CreateClient());
//   // Trust a private CA instead:  CreateClient({.ca_file = "/path/ca.pem"})
//   // Server:
//   CORIO_ASSIGN_OR_RETURN(auto server_ctx, corio::tls::TlsContext::CreateServer(
//       {.cert_pem = chain_pem, .key_pem = key_pem}));
//   ... co_await corio::tls::TlsStream::Connect(ctx, std::move(tcp), "example.com");
//
// Client verification is on unless `insecure` is set: the chain must lead to a trusted CA
// (the system store, or only `ca_file`/`ca_pem` when given, like curl's --cacert), and the
// certificate must name the host (DNS SAN, or IP SAN for IP literals). TLS 1.2 and 1.3.
// The system store ($SSL_CERT_FILE / $SSL_CERT_DIR, else Debian's /etc/ssl/certs bundle) is
// parsed once per process and shared by every client context (parsing it takes tens of
// milliseconds); a machine without it (no ca-certificates package) fails verification with
// a message that says so.
// Session resumption (client): TLS 1.3 tickets and TLS 1.2 sessions are cached per
// (host, port) of the connection that got them; a TLS 1.3 ticket is used once.
//
// Threading: thread-safe. One context may be shared by connections on any number of loops
// (an HTTP client shares one by all its connections); the session cache is locked.
// Ownership: shared (std::shared_ptr); every TlsStream keeps its context alive.
// Errors: CreateClient/CreateServer fail with INVALID_ARGUMENT for unusable options (a CA file
// that cannot be read, a key that does not match the certificate), naming the option and
// OpenSSL's reason.
#ifndef CORIO_NET_TLS_TLS_CONTEXT_H_
#define CORIO_NET_TLS_TLS_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

// OpenSSL's types, declared here so users of this header do not see OpenSSL.
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace corio::tls {

enum class TlsVersion { kTls12, kTls13 };

// {"http/1.1"}. (A function, not a braced list in the member initializers: GCC 12 miscompiles
// an initializer_list built inside a co_await expression, which a defaulted options argument
// would be.)
std::vector<std::string> DefaultAlpn();

struct ClientOptions {
  // Private CA certificates to trust (PEM), instead of the system store.
  std::string ca_file;
  std::string ca_pem;
  // No certificate or name verification at all. Only for tests and explicit user opt-in.
  bool insecure = false;
  // Offered with ALPN, in order of preference.
  std::vector<std::string> alpn = DefaultAlpn();
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Resume sessions (tickets, session ids) for new connections to the same host and port.
  bool session_resumption = true;
  // How many (host, port) entries the session cache keeps (least recently stored dropped).
  size_t session_cache_hosts = 1024;
};

struct ServerOptions {
  // The certificate chain (leaf first) and its private key, as PEM text or files.
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;
  std::string key_file;
  // Protocols the server accepts with ALPN, in order of preference. A client offering none of
  // them still connects (without ALPN).
  std::vector<std::string> alpn = DefaultAlpn();
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Issue session tickets (TLS 1.3 and TLS 1.2), and keep TLS 1.2 session ids in a cache.
  bool session_tickets = true;
  bool session_cache = true;
};

class TlsContext {
 public:
  // (Two overloads rather than a defaulted `= {}`: a braced default argument inside a
  // co_await expression trips GCC 12.)
  static absl::StatusOr<std::shared_ptr<TlsContext>> CreateClient();
  static absl::StatusOr<std::shared_ptr<TlsContext>> CreateClient(ClientOptions options);
  static absl::StatusOr<std::shared_ptr<TlsContext>> CreateServer(ServerOptions options);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  bool is_server() const { return server_; }
  bool insecure() const { return insecure_; }

  // Client session cache: how many sessions are held, and forgetting them all.
  size_t cached_sessions() const;
  void ClearSessionCache();

  // Whether the system CA store looked empty when the context was made (verification
  // errors then say so: a machine without the ca-certificates package).
  bool system_store_empty() const { return system_store_empty_; }

 private:
  friend class TlsStream;
  // A new SSL for one connection (nullptr with OpenSSL's error queued). For clients,
  // `session_key` ("host:port", owned by the stream, outliving the SSL) names the cache entry
  // new sessions go to.
  SSL* NewSsl(const std::string* session_key) const;
  // A session to resume for `key`, up-referenced (the caller frees it), or nullptr.
  SSL_SESSION* TakeSession(const std::string& key);

  struct Sessions {
    std::vector<SSL_SESSION*> sessions;  // newest last
    std::list<std::string>::iterator lru;
  };

  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);
  void StoreSession(const std::string& key, SSL_SESSION* session);

  SSL_CTX* const ctx_;
  const bool server_;
  bool insecure_ = false;
  bool system_store_empty_ = false;
  size_t max_hosts_ = 0;
  std::string alpn_wire_;  // server: its ALPN list in wire format

  // A std::mutex, not an absl::Mutex: the system's Abseil is not built for ThreadSanitizer,
  // which would not see its synchronization. Guards the three members below.
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Sessions> sessions_;
  std::list<std::string> lru_;  // keys, least recently stored first
  size_t session_count_ = 0;
};

}  // namespace corio::tls

#endif  // CORIO_NET_TLS_TLS_CONTEXT_H_
