#include "net/tls/tls_context.h"

#include <dirent.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/tls/openssl_util.h"

namespace corio::tls {
namespace {

using tls_internal::ErrorQueueScope;
using tls_internal::OpenSslPtr;
using tls_internal::OpenSslStatus;

// At most this many sessions per (host, port): a TLS 1.3 server sends two tickets per
// connection and each is used once, so a few cover a burst of sequential connections.
constexpr size_t kSessionsPerHost = 4;

int ContextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int SessionKeyIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int ProtocolVersion(TlsVersion v) {
  return v == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

absl::Status InvalidOption(absl::string_view what) {
  return OpenSslStatus(absl::StatusCode::kInvalidArgument, absl::StrCat("tls: ", what));
}

// OpenSSL's ALPN wire format: each protocol prefixed with its length.
absl::StatusOr<std::string> AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: ALPN protocol name \"", p, "\" must be 1 to 255 bytes"));
    }
    wire.push_back(static_cast<char>(p.size()));
    wire.append(p);
  }
  return wire;
}

absl::Status SetVersions(SSL_CTX* ctx, TlsVersion min, TlsVersion max) {
  if (ProtocolVersion(min) > ProtocolVersion(max)) {
    return absl::InvalidArgumentError("tls: min_version is above max_version");
  }
  if (SSL_CTX_set_min_proto_version(ctx, ProtocolVersion(min)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, ProtocolVersion(max)) != 1) {
    return InvalidOption("protocol versions");
  }
  return absl::OkStatus();
}

bool NonEmptyFile(const char* path) {
  struct stat st;
  return path != nullptr && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

// Whether a directory holds OpenSSL hash links ("5ad8a5d6.0").
bool HasHashedCerts(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() >= 10 && name[8] == '.' && name.find_first_not_of("0123456789abcdef") == 8) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

// What SSL_CTX_set_default_verify_paths will find: $SSL_CERT_FILE or the default bundle,
// $SSL_CERT_DIR or the default directory. A fresh machine without ca-certificates has none.
bool SystemStoreLooksEmpty() {
  const char* file = getenv(X509_get_default_cert_file_env());
  if (NonEmptyFile(file != nullptr ? file : X509_get_default_cert_file())) return false;
  const char* dirs = getenv(X509_get_default_cert_dir_env());
  for (absl::string_view dir :
       absl::StrSplit(dirs != nullptr ? dirs : X509_get_default_cert_dir(), ':')) {
    if (!dir.empty() && HasHashedCerts(std::string(dir))) return false;
  }
  return true;
}

// The system's trust store, parsed once per process (per $SSL_CERT_FILE / $SSL_CERT_DIR seen)
// and shared by every client context: loading the bundle costs tens of milliseconds, and an
// X509_STORE may be shared by contexts on any thread.
struct SystemStore {
  X509_STORE* store = nullptr;
  bool empty = false;
};

absl::StatusOr<SystemStore> SharedSystemStore() {
  const char* file = getenv(X509_get_default_cert_file_env());
  const char* dir = getenv(X509_get_default_cert_dir_env());
  const std::string key = absl::StrCat(file != nullptr ? file : X509_get_default_cert_file(), "\n",
                                       dir != nullptr ? dir : X509_get_default_cert_dir());
  static std::mutex mu;
  static auto* stores = new absl::flat_hash_map<std::string, SystemStore>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = stores->find(key);
  if (it != stores->end()) return it->second;
  SystemStore s;
  s.store = X509_STORE_new();
  if (s.store == nullptr || X509_STORE_set_default_paths(s.store) != 1) {
    X509_STORE_free(s.store);
    return InvalidOption("system CA store");
  }
  ERR_clear_error();  // a missing bundle or directory is not an error here (empty is noted)
  s.empty = SystemStoreLooksEmpty();
  stores->emplace(key, s);
  return s;
}

absl::Status AddCaPem(SSL_CTX* ctx, const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return InvalidOption("ca_pem");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    OpenSslPtr<X509> cert(raw);
    if (X509_STORE_add_cert(store, cert.get()) != 1) return InvalidOption("ca_pem");
    ++added;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (added == 0) return absl::InvalidArgumentError("tls: ca_pem holds no PEM certificate");
  return absl::OkStatus();
}

absl::Status UseChainPem(SSL_CTX* ctx, const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return InvalidOption("cert_pem");
  OpenSslPtr<X509> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (leaf == nullptr) {
    return InvalidOption("cert_pem holds no PEM certificate");
  }
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return InvalidOption("cert_pem");
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    OpenSslPtr<X509> intermediate(raw);
    if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1) return InvalidOption("cert_pem");
  }
  ERR_clear_error();
  return absl::OkStatus();
}

// SSL_CTX_use_PrivateKey* failed: most often the key is not the certificate's.
absl::Status KeyFailure(absl::string_view option) {
  if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
    return InvalidOption(absl::StrCat(option, ": the private key does not match the certificate"));
  }
  return InvalidOption(option);
}

absl::Status UseKeyPem(SSL_CTX* ctx, const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OpenSslPtr<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                               : nullptr);
  if (key == nullptr) return InvalidOption("key_pem holds no usable PEM private key");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) return KeyFailure("key_pem");
  return absl::OkStatus();
}

absl::Status Readable(const std::string& option, const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: ", option, " ", path, ": ", strerror(errno)));
  }
  fclose(f);
  return absl::OkStatus();
}

// Common to clients and servers: versions, no renegotiation (never needed by HTTP/1.1, and it
// would make a write need a read).
absl::StatusOr<OpenSslPtr<SSL_CTX>> NewContext(const SSL_METHOD* method, TlsVersion min,
                                               TlsVersion max) {
  OpenSslPtr<SSL_CTX> ctx(SSL_CTX_new(method));
  if (ctx == nullptr) return OpenSslStatus(absl::StatusCode::kInternal, "tls: SSL_CTX_new");
  if (absl::Status s = SetVersions(ctx.get(), min, max); !s.ok()) return s;
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle connections (a pool's) give their record buffers back (~34 KiB each).
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  // TLS 1.3 suites in the order browsers use: AES-128-GCM is as safe and faster than the
  // AES-256-GCM OpenSSL lists first.
  if (SSL_CTX_set_ciphersuites(ctx.get(),
                               "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                               "TLS_CHACHA20_POLY1305_SHA256") != 1) {
    return OpenSslStatus(absl::StatusCode::kInternal, "tls: TLS 1.3 cipher suites");
  }
  return ctx;
}

int SelectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const std::string* server = static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(
          &selected, outlen, reinterpret_cast<const unsigned char*>(server->data()),
          static_cast<unsigned int>(server->size()), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // go on without ALPN
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::vector<std::string> DefaultAlpn() { return {"http/1.1"}; }

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::CreateClient() {
  return CreateClient(ClientOptions());
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::CreateClient(ClientOptions options) {
  ErrorQueueScope errors;
  absl::StatusOr<OpenSslPtr<SSL_CTX>> ctx =
      NewContext(TLS_client_method(), options.min_version, options.max_version);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX* c = ctx->get();

  bool system_store_empty = false;
  if (!options.insecure) {
    if (options.ca_file.empty() && options.ca_pem.empty()) {
      absl::StatusOr<SystemStore> system = SharedSystemStore();
      if (!system.ok()) return system.status();
      SSL_CTX_set1_cert_store(c, system->store);
      system_store_empty = system->empty;
    }
    if (!options.ca_file.empty()) {
      if (absl::Status s = Readable("ca_file", options.ca_file); !s.ok()) return s;
      if (SSL_CTX_load_verify_locations(c, options.ca_file.c_str(), nullptr) != 1) {
        return InvalidOption(absl::StrCat("ca_file ", options.ca_file));
      }
    }
    if (!options.ca_pem.empty()) {
      if (absl::Status s = AddCaPem(c, options.ca_pem); !s.ok()) return s;
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }

  if (!options.alpn.empty()) {
    absl::StatusOr<std::string> wire = AlpnWire(options.alpn);
    if (!wire.ok()) return wire.status();
    // Returns 0 on success (unlike most of OpenSSL).
    if (SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(wire->data()),
                                static_cast<unsigned int>(wire->size())) != 0) {
      return InvalidOption("alpn");
    }
  }

  if (options.session_resumption) {
    // Sessions go to our cache (keyed by host and port), not OpenSSL's (keyed by session id).
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c, &TlsContext::OnNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  }

  std::shared_ptr<TlsContext> self(new TlsContext(ctx->release(), /*server=*/false));
  self->insecure_ = options.insecure;
  self->system_store_empty_ = system_store_empty;
  self->max_hosts_ = options.session_cache_hosts;
  SSL_CTX_set_ex_data(self->ctx_, ContextIndex(), self.get());
  return self;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::CreateServer(ServerOptions options) {
  ErrorQueueScope errors;
  absl::StatusOr<OpenSslPtr<SSL_CTX>> ctx =
      NewContext(TLS_server_method(), options.min_version, options.max_version);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX* c = ctx->get();

  if (options.cert_pem.empty() == options.cert_file.empty()) {
    return absl::InvalidArgumentError("tls: a server needs exactly one of cert_pem and cert_file");
  }
  if (options.key_pem.empty() == options.key_file.empty()) {
    return absl::InvalidArgumentError("tls: a server needs exactly one of key_pem and key_file");
  }
  if (!options.cert_pem.empty()) {
    if (absl::Status s = UseChainPem(c, options.cert_pem); !s.ok()) return s;
  } else {
    if (absl::Status s = Readable("cert_file", options.cert_file); !s.ok()) return s;
    if (SSL_CTX_use_certificate_chain_file(c, options.cert_file.c_str()) != 1) {
      return InvalidOption(absl::StrCat("cert_file ", options.cert_file));
    }
  }
  if (!options.key_pem.empty()) {
    if (absl::Status s = UseKeyPem(c, options.key_pem); !s.ok()) return s;
  } else {
    if (absl::Status s = Readable("key_file", options.key_file); !s.ok()) return s;
    if (SSL_CTX_use_PrivateKey_file(c, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return KeyFailure(absl::StrCat("key_file ", options.key_file));
    }
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return InvalidOption("the private key does not match the certificate");
  }

  static const unsigned char kSessionContext[] = "corio";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  if (!options.session_tickets) {
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, 0);
  }
  SSL_CTX_set_session_cache_mode(
      c, options.session_cache ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);

  std::shared_ptr<TlsContext> self(new TlsContext(ctx->release(), /*server=*/true));
  if (!options.alpn.empty()) {
    absl::StatusOr<std::string> wire = AlpnWire(options.alpn);
    if (!wire.ok()) return wire.status();
    self->alpn_wire_ = *std::move(wire);
    SSL_CTX_set_alpn_select_cb(self->ctx_, &SelectAlpn, &self->alpn_wire_);
  }
  SSL_CTX_set_ex_data(self->ctx_, ContextIndex(), self.get());
  return self;
}

TlsContext::~TlsContext() {
  ClearSessionCache();
  SSL_CTX_free(ctx_);
}

SSL* TlsContext::NewSsl(const std::string* session_key) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl != nullptr && session_key != nullptr) {
    SSL_set_ex_data(ssl, SessionKeyIndex(), const_cast<std::string*>(session_key));
  }
  return ssl;
}

int TlsContext::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextIndex()));
  auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, SessionKeyIndex()));
  if (self == nullptr || key == nullptr || SSL_SESSION_is_resumable(session) != 1) {
    return 0;  // not kept: OpenSSL keeps its reference
  }
  self->StoreSession(*key, session);
  return 1;  // we own the reference now
}

void TlsContext::StoreSession(const std::string& key, SSL_SESSION* session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = sessions_.try_emplace(key);
  Sessions& entry = it->second;
  if (inserted) {
    entry.lru = lru_.insert(lru_.end(), key);
  } else {
    lru_.splice(lru_.end(), lru_, entry.lru);
  }
  entry.sessions.push_back(session);
  ++session_count_;
  if (entry.sessions.size() > kSessionsPerHost) {
    SSL_SESSION_free(entry.sessions.front());
    entry.sessions.erase(entry.sessions.begin());
    --session_count_;
  }
  while (sessions_.size() > max_hosts_ && !lru_.empty()) {
    auto victim = sessions_.find(lru_.front());
    for (SSL_SESSION* s : victim->second.sessions) SSL_SESSION_free(s);
    session_count_ -= victim->second.sessions.size();
    sessions_.erase(victim);
    lru_.pop_front();
  }
}

SSL_SESSION* TlsContext::TakeSession(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  std::vector<SSL_SESSION*>& list = it->second.sessions;
  const long now = static_cast<long>(time(nullptr));
  SSL_SESSION* found = nullptr;
  while (!list.empty() && found == nullptr) {
    SSL_SESSION* s = list.back();
    const bool usable = SSL_SESSION_is_resumable(s) == 1 &&
                        SSL_SESSION_get_time(s) + SSL_SESSION_get_timeout(s) > now;
    if (usable && SSL_SESSION_get_protocol_version(s) != TLS1_3_VERSION) {
      // A TLS 1.2 session may serve many connections; it stays.
      SSL_SESSION_up_ref(s);
      return s;
    }
    // TLS 1.3 tickets are single-use (RFC 8446, C.4); unusable sessions go too.
    list.pop_back();
    --session_count_;
    if (usable) {
      found = s;
    } else {
      SSL_SESSION_free(s);
    }
  }
  if (list.empty()) {
    lru_.erase(it->second.lru);
    sessions_.erase(it);
  }
  return found;
}

size_t TlsContext::cached_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_count_;
}

void TlsContext::ClearSessionCache() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, entry] : sessions_) {
    for (SSL_SESSION* s : entry.sessions) SSL_SESSION_free(s);
  }
  sessions_.clear();
  lru_.clear();
  session_count_ = 0;
}

}  // namespace corio::tls
