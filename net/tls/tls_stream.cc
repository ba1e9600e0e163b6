#include "net/tls/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "net/tcp_stream.h"
#include "net/tls/openssl_util.h"
#include "net/tls/tls_errors.h"

namespace corio::tls {
namespace {

using tls_internal::ErrorQueueScope;
using tls_internal::OpenSslStatus;

// Room for two full TLS records per transport read.
constexpr size_t kInCapacity = 2 * (16 * 1024 + 256);
// The largest TLS record payload: small writes are gathered up to this before encrypting.
constexpr size_t kRecordSize = 16 * 1024;
// Ciphertext handed to the transport per write: about four full records.
constexpr size_t kWriteChunk = 64 * 1024;

// The address part of "1.2.3.4:443" / "[::1]:443", and the port part.
absl::string_view PeerIp(absl::string_view peer) {
  if (absl::StartsWith(peer, "[")) {
    const size_t close = peer.find(']');
    return close == absl::string_view::npos ? peer : peer.substr(1, close - 1);
  }
  const size_t colon = peer.rfind(':');
  return colon == absl::string_view::npos ? peer : peer.substr(0, colon);
}
absl::string_view PeerPort(absl::string_view peer) {
  const size_t colon = peer.rfind(':');
  return colon == absl::string_view::npos ? absl::string_view() : peer.substr(colon + 1);
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// "<message> (after 10 of 25 bytes)", the code kept.
absl::Status After(const absl::Status& s, size_t done, size_t total) {
  if (done == 0) return s;
  return absl::Status(s.code(),
                      absl::StrCat(s.message(), " (after ", done, " of ", total, " bytes)"));
}

}  // namespace

struct TlsStream::Impl {
  // Ciphertext received, not yet consumed by OpenSSL: in[in_begin, in_end). OpenSSL asks the
  // BIO for more only after it consumed everything, so this is mostly a staging area; it is
  // allocated for a transport read and released when empty again (an idle connection keeps
  // no buffers: OpenSSL's own go too, SSL_MODE_RELEASE_BUFFERS).
  struct Wire {
    std::unique_ptr<char[]> in;
    size_t in_begin = 0;
    size_t in_end = 0;
    std::string out;  // produced by OpenSSL, not yet handed to the transport

    // Room at the end of `in` for the next transport read.
    absl::Span<char> InRoom() {
      if (in == nullptr) in.reset(new char[kInCapacity]);
      if (in_begin == in_end) {
        in_begin = in_end = 0;
      } else if (in_end == kInCapacity && in_begin > 0) {
        std::memmove(in.get(), in.get() + in_begin, in_end - in_begin);
        in_end -= in_begin;
        in_begin = 0;
      }
      return absl::MakeSpan(in.get() + in_end, kInCapacity - in_end);
    }
    void ReleaseIfEmpty() {
      if (in_begin == in_end) {
        in.reset();
        in_begin = in_end = 0;
      }
    }
    size_t unconsumed() const { return in_end - in_begin; }
  };
  enum class ReadStep { kData, kWantRead, kEof, kError };

  Impl(std::shared_ptr<TlsContext> c, std::unique_ptr<ByteStream> t)
      : ctx(std::move(c)), transport(std::move(t)) {}
  ~Impl() {
    Close();
    if (ssl != nullptr) {
      ErrorQueueScope errors;
      SSL_free(ssl);  // and its BIO
    }
  }

  absl::Status SetUp(bool server, std::string host);
  Task<absl::Status> Handshake();
  ReadStep DecryptAvailable(absl::Span<char> buf, size_t* got);
  absl::Status Encrypt(absl::string_view plain);
  Task<absl::Status> Flush();
  absl::Status WriteRefusal() const;
  // Frees write buffers a burst left large (an idle connection holds a few KiB at most).
  void ShrinkWriteBuffers() {
    constexpr size_t kKeep = 4096;
    if (wire.out.empty() && wire.out.capacity() > kKeep) std::string().swap(wire.out);
    if (sending.capacity() > kKeep) std::string().swap(sending);
    if (staging.capacity() > kKeep) std::string().swap(staging);
  }
  void Close();

  static BIO_METHOD* WireMethod();
  static int BioWrite(BIO* bio, const char* data, size_t len, size_t* written);
  static int BioRead(BIO* bio, char* data, size_t len, size_t* read);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);

  std::shared_ptr<TlsContext> ctx;
  std::unique_ptr<ByteStream> transport;
  Wire wire;
  SSL* ssl = nullptr;  // owns its BIO, which points at this Impl
  std::string who;
  std::string server_name;
  std::string session_key;  // client: "host:port", the session cache entry

  std::string sending;  // ciphertext the transport is writing now
  std::string staging;  // plaintext gathered into one record (WriteAllv)
  bool flushing = false;
  bool reading = false;
  bool writing = false;
  bool handshake_done = false;
  bool eof = false;  // Read returns 0 from now on
  bool close_notify_received = false;
  bool shutdown_sent = false;
  bool closed = false;
  absl::Status read_error;   // sticky
  absl::Status write_error;  // sticky
};

using Impl = TlsStream::Impl;

// --- the wire: a BIO over Impl::wire ----------------------------------------------------------

int Impl::BioWrite(BIO* bio, const char* data, size_t len, size_t* written) {
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  self->wire.out.append(data, len);
  *written = len;
  return 1;
}

int Impl::BioRead(BIO* bio, char* data, size_t len, size_t* read) {
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  Wire& w = self->wire;
  BIO_clear_retry_flags(bio);
  if (w.unconsumed() == 0) {
    // Not EOF: "come back later". The stream reads the transport and calls OpenSSL again.
    BIO_set_retry_read(bio);
    *read = 0;
    return 0;
  }
  const size_t n = std::min(len, w.unconsumed());
  std::memcpy(data, w.in.get() + w.in_begin, n);
  w.in_begin += n;
  *read = n;
  return 1;
}

long Impl::BioCtrl(BIO* bio, int cmd, long num, void* ptr) {
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // the stream flushes after each OpenSSL call
    case BIO_CTRL_PENDING:
      return static_cast<long>(self->wire.unconsumed());
    case BIO_CTRL_WPENDING:
      return static_cast<long>(self->wire.out.size());
    default:
      return 0;
  }
}

BIO_METHOD* Impl::WireMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "corio tls wire");
    BIO_meth_set_write_ex(m, &Impl::BioWrite);
    BIO_meth_set_read_ex(m, &Impl::BioRead);
    BIO_meth_set_ctrl(m, &Impl::BioCtrl);
    return m;
  }();
  return method;
}

// --- handshake --------------------------------------------------------------------------------

absl::Status Impl::SetUp(bool server, std::string host) {
  ErrorQueueScope errors;
  const std::string peer = transport->PeerName();
  std::string ip;  // the host as an IP literal, if it is one
  if (!server) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const std::string without_zone = host.substr(0, host.find('%'));
    if (IsIpLiteral(without_zone)) {
      ip = without_zone;
    } else if (!host.empty() && host.back() == '.') {
      host.pop_back();  // "example.com." is example.com to certificates and SNI
    }
    if (host.empty() && !ctx->insecure()) {
      return absl::InvalidArgumentError(
          "tls: Connect needs the server's host name or IP address to verify its certificate");
    }
    who = host.empty() || PeerIp(peer) == host ? peer : absl::StrCat(host, " (", peer, ")");
    session_key = absl::StrCat(host, ":", PeerPort(peer));
    ssl = ctx->NewSsl(&session_key);
  } else {
    who = peer;
    ssl = ctx->NewSsl(nullptr);
  }
  if (ssl == nullptr) return OpenSslStatus(absl::StatusCode::kInternal, "tls: SSL_new");
  BIO* bio = BIO_new(WireMethod());
  if (bio == nullptr) return OpenSslStatus(absl::StatusCode::kInternal, "tls: BIO_new");
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO (one reference for both directions)
  if (server) {
    SSL_set_accept_state(ssl);
    return absl::OkStatus();
  }

  SSL_set_connect_state(ssl);
  if (ip.empty() && !host.empty()) {
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      return OpenSslStatus(absl::StatusCode::kInvalidArgument,
                           absl::StrCat("tls: server name \"", host, "\""));
    }
    server_name = host;
  }
  if (!ctx->insecure()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip.empty() ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                               : X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
    if (set != 1) {
      return OpenSslStatus(absl::StatusCode::kInvalidArgument,
                           absl::StrCat("tls: cannot verify against \"", host, "\""));
    }
  }
  if (SSL_SESSION* session = ctx->TakeSession(session_key)) {
    SSL_set_session(ssl, session);  // takes its own reference
    SSL_SESSION_free(session);
  }
  return absl::OkStatus();
}

Task<absl::Status> Impl::Handshake() {
  for (;;) {
    int ssl_error = SSL_ERROR_NONE;
    absl::Status failure;
    {
      ErrorQueueScope errors;
      const int r = SSL_do_handshake(ssl);
      if (r != 1) ssl_error = SSL_get_error(ssl, r);
      if (ssl_error != SSL_ERROR_NONE && ssl_error != SSL_ERROR_WANT_READ) {
        failure = tls_internal::HandshakeError(ssl, ssl_error, who, ctx->system_store_empty());
      }
    }
    // Whatever OpenSSL produced goes out first: the next flight, or the alert that tells
    // the peer why we give up.
    if (!wire.out.empty()) {
      absl::Status sent = co_await Flush();
      if (!failure.ok()) co_return failure;
      if (!sent.ok()) {
        co_return absl::Status(sent.code(),
                               absl::StrCat("tls handshake with ", who, ": ", sent.message()));
      }
    }
    if (!failure.ok()) co_return failure;
    if (ssl_error == SSL_ERROR_NONE) break;
    absl::StatusOr<size_t> n = co_await transport->Read(wire.InRoom());
    if (!n.ok()) {
      co_return absl::Status(n.status().code(),
                             absl::StrCat("tls handshake with ", who, ": ", n.status().message()));
    }
    if (*n == 0) {
      co_return absl::UnavailableError(absl::StrCat(
          "tls handshake with ", who, ": the peer closed the connection during the handshake"));
    }
    wire.in_end += *n;
  }
  handshake_done = true;
  wire.ReleaseIfEmpty();
  ShrinkWriteBuffers();
  if (ctx->is_server()) {
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    server_name = sni != nullptr ? sni : "";
  }
  co_return absl::OkStatus();
}

// Runs a handshake over `transport`, which is closed on every failure path before this
// returns (not when the caller's frame goes away).
Task<absl::StatusOr<std::unique_ptr<TlsStream>>> TlsStream::Connect(
    std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport, std::string host) {
  auto impl = std::make_shared<Impl>(std::move(ctx), std::move(transport));
  if (impl->ctx == nullptr || impl->ctx->is_server()) {
    co_return absl::InvalidArgumentError(
        "tls: Connect needs a client context (TlsContext::CreateClient)");
  }
  if (impl->transport == nullptr) {
    co_return absl::InvalidArgumentError("tls: Connect without transport");
  }
  absl::Status set_up = impl->SetUp(/*server=*/false, std::move(host));
  if (!set_up.ok()) co_return set_up;
  absl::Status handshake = co_await impl->Handshake();
  if (!handshake.ok()) co_return handshake;
  co_return std::unique_ptr<TlsStream>(new TlsStream(std::move(impl)));
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> TlsStream::Accept(
    std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport) {
  auto impl = std::make_shared<Impl>(std::move(ctx), std::move(transport));
  if (impl->ctx == nullptr || !impl->ctx->is_server()) {
    co_return absl::InvalidArgumentError(
        "tls: Accept needs a server context (TlsContext::CreateServer)");
  }
  if (impl->transport == nullptr) {
    co_return absl::InvalidArgumentError("tls: Accept without transport");
  }
  absl::Status set_up = impl->SetUp(/*server=*/true, "");
  if (!set_up.ok()) co_return set_up;
  absl::Status handshake = co_await impl->Handshake();
  if (!handshake.ok()) co_return handshake;
  co_return std::unique_ptr<TlsStream>(new TlsStream(std::move(impl)));
}

TlsStream::~TlsStream() { impl_->Close(); }

// --- reading ----------------------------------------------------------------------------------

Impl::ReadStep Impl::DecryptAvailable(absl::Span<char> buf, size_t* got) {
  ErrorQueueScope errors;
  *got = 0;
  while (*got < buf.size()) {
    size_t n = 0;
    const int r = SSL_read_ex(ssl, buf.data() + *got, buf.size() - *got, &n);
    if (r == 1) {
      *got += n;
      continue;
    }
    const int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) return ReadStep::kWantRead;
    if (e == SSL_ERROR_ZERO_RETURN) {
      close_notify_received = true;
      eof = true;
      return ReadStep::kEof;
    }
    read_error = tls_internal::RecordError(e, "read from", who);
    return ReadStep::kError;
  }
  return ReadStep::kData;
}

namespace {

Task<absl::StatusOr<size_t>> ReadOn(std::shared_ptr<Impl> self, absl::Span<char> buf,
                                    absl::Time deadline) {
  Impl& s = *self;
  if (s.closed) co_return absl::FailedPreconditionError("tls: read from a closed TlsStream");
  if (s.reading) co_return absl::FailedPreconditionError("tls: two concurrent reads");
  if (!s.read_error.ok()) co_return s.read_error;
  if (s.eof || buf.empty()) co_return 0;
  s.reading = true;
  absl::StatusOr<size_t> result;
  for (;;) {
    size_t got = 0;
    const Impl::ReadStep step = s.DecryptAvailable(buf, &got);
    // Bytes first: an EOF or error found after them is sticky and seen by the next Read.
    if (got > 0) {
      result = got;
      break;
    }
    if (step == Impl::ReadStep::kEof) {
      result = 0;
      break;
    }
    if (step == Impl::ReadStep::kError) {
      if (s.write_error.ok()) s.write_error = s.read_error;
      if (!s.wire.out.empty() && !s.flushing) {
        absl::Status alert_sent = co_await s.Flush();  // best effort: tell the peer why
        (void)alert_sent;
      }
      result = s.read_error;
      break;
    }
    absl::StatusOr<size_t> n;
    if (deadline == absl::InfiniteFuture()) {
      n = co_await s.transport->Read(s.wire.InRoom());
    } else {
      n = co_await s.transport->ReadBefore(s.wire.InRoom(), deadline);
    }
    if (!n.ok()) {
      // Nothing was taken: a cancelled or timed-out read leaves the stream as it was
      // (ciphertext of a partial record stays in the wire buffer).
      if (!absl::IsCancelled(n.status()) && !absl::IsDeadlineExceeded(n.status())) {
        s.read_error = n.status();
      }
      result = n.status();
      break;
    }
    if (*n == 0) {
      s.eof = true;  // without close_notify: see close_notify_received()
      result = 0;
      break;
    }
    s.wire.in_end += *n;
  }
  s.reading = false;
  s.wire.ReleaseIfEmpty();
  co_return result;
}

}  // namespace

Task<absl::StatusOr<size_t>> TlsStream::Read(absl::Span<char> buf) {
  return ReadOn(impl_, buf, absl::InfiniteFuture());
}

Task<absl::StatusOr<size_t>> TlsStream::ReadBefore(absl::Span<char> buf, absl::Time deadline) {
  return ReadOn(impl_, buf, deadline);
}

// --- writing ----------------------------------------------------------------------------------

absl::Status Impl::WriteRefusal() const {
  if (closed) return absl::FailedPreconditionError("tls: write to a closed TlsStream");
  if (writing || flushing) return absl::FailedPreconditionError("tls: two concurrent writes");
  if (!write_error.ok()) return write_error;
  if (shutdown_sent) {
    return absl::FailedPreconditionError(absl::StrCat("tls: write to ", who, " after Shutdown"));
  }
  return absl::OkStatus();
}

// The BIO takes everything, so SSL_write encrypts all of `plain` or fails for good.
absl::Status Impl::Encrypt(absl::string_view plain) {
  ErrorQueueScope errors;
  size_t written = 0;
  const int r = SSL_write_ex(ssl, plain.data(), plain.size(), &written);
  if (r != 1) {
    write_error = tls_internal::RecordError(SSL_get_error(ssl, r), "write to", who);
    return write_error;
  }
  return absl::OkStatus();
}

Task<absl::Status> Impl::Flush() {
  flushing = true;
  absl::Status result;
  while (!wire.out.empty()) {
    sending.swap(wire.out);
    absl::Status s = co_await transport->WriteAll(sending);
    sending.clear();
    if (!s.ok()) {
      write_error =
          absl::IsCancelled(s)
              ? absl::UnavailableError(absl::StrCat(
                    "tls: a write to ", who,
                    " was cancelled while a record was going out; the stream cannot be written"))
              : s;
      wire.out.clear();
      result = s;
      break;
    }
  }
  flushing = false;
  co_return result;
}

namespace {

// Encrypts `pieces` in full records (small pieces gathered into one), handing the transport
// about kWriteChunk of ciphertext at a time.
Task<absl::Status> WriteAllOn(std::shared_ptr<Impl> self,
                              absl::Span<const absl::string_view> pieces) {
  Impl& s = *self;
  CORIO_CO_RETURN_IF_ERROR(s.WriteRefusal());
  s.writing = true;
  size_t total = 0;
  for (absl::string_view p : pieces) total += p.size();
  size_t encrypted = 0;  // plaintext bytes handed to OpenSSL
  size_t sent = 0;       // ... whose ciphertext the transport took
  absl::Status result;
  s.staging.clear();
  for (absl::string_view piece : pieces) {
    while (!piece.empty() && result.ok()) {
      if (s.staging.empty() && piece.size() >= kRecordSize) {
        const size_t n = std::min(piece.size(), kWriteChunk);
        result = s.Encrypt(piece.substr(0, n));
        encrypted += n;
        piece.remove_prefix(n);
      } else {
        const size_t n = std::min(piece.size(), kRecordSize - s.staging.size());
        s.staging.append(piece.data(), n);
        piece.remove_prefix(n);
        if (s.staging.size() == kRecordSize) {
          result = s.Encrypt(s.staging);
          encrypted += s.staging.size();
          s.staging.clear();
        }
      }
      if (result.ok() && s.wire.out.size() >= kWriteChunk) {
        result = co_await s.Flush();
        if (result.ok()) sent = encrypted;
      }
    }
    if (!result.ok()) break;
  }
  if (result.ok() && !s.staging.empty()) {
    result = s.Encrypt(s.staging);
    encrypted += s.staging.size();
  }
  s.staging.clear();
  if (result.ok()) {
    result = co_await s.Flush();
    if (result.ok()) sent = encrypted;
  }
  s.writing = false;
  s.ShrinkWriteBuffers();
  co_return After(result, sent, total);
}

Task<absl::StatusOr<size_t>> WriteSomeOn(std::shared_ptr<Impl> self, absl::string_view data) {
  Impl& s = *self;
  CORIO_CO_RETURN_IF_ERROR(s.WriteRefusal());
  if (data.empty()) co_return 0;
  s.writing = true;
  const size_t n = std::min(data.size(), kWriteChunk);
  absl::Status result = s.Encrypt(data.substr(0, n));
  if (result.ok()) {
    result = co_await s.Flush();
  }
  s.writing = false;
  if (!result.ok()) co_return result;
  co_return n;
}

Task<absl::Status> ShutdownOn(std::shared_ptr<Impl> self) {
  Impl& s = *self;
  if (s.closed) co_return absl::FailedPreconditionError("tls: shutdown of a closed TlsStream");
  if (s.writing || s.flushing)
    co_return absl::FailedPreconditionError("tls: Shutdown during a write");
  if (!s.write_error.ok()) co_return s.write_error;
  if (!s.shutdown_sent) {
    ErrorQueueScope errors;
    s.shutdown_sent = true;
    SSL_shutdown(s.ssl);  // queues close_notify (the first call never reads)
  }
  s.writing = true;
  absl::Status flushed = co_await s.Flush();
  s.writing = false;
  if (!flushed.ok()) co_return flushed;
  co_return co_await s.transport->Shutdown();
}

}  // namespace

Task<absl::Status> TlsStream::WriteAll(absl::string_view data) {
  std::shared_ptr<Impl> self = impl_;
  const absl::string_view one[] = {data};
  co_return co_await WriteAllOn(std::move(self), one);
}

Task<absl::Status> TlsStream::WriteAllv(absl::Span<const absl::string_view> pieces) {
  return WriteAllOn(impl_, pieces);
}

Task<absl::StatusOr<size_t>> TlsStream::Write(absl::string_view data) {
  return WriteSomeOn(impl_, data);
}

Task<absl::Status> TlsStream::Shutdown() { return ShutdownOn(impl_); }

// --- closing ----------------------------------------------------------------------------------

void Impl::Close() {
  if (closed) return;
  closed = true;
  if (ssl != nullptr && handshake_done && !shutdown_sent && !flushing && write_error.ok() &&
      read_error.ok()) {
    ErrorQueueScope errors;
    shutdown_sent = true;
    // Marks the session as cleanly ended (so it stays resumable) and queues close_notify,
    // which goes out only if the transport can take it at once: one small alert into an idle
    // TCP socket buffer; never a wait.
    if (SSL_shutdown(ssl) >= 0) {
      auto* tcp = dynamic_cast<TcpStream*>(transport.get());
      if (tcp != nullptr && tcp->is_open() && !wire.out.empty()) {
        (void)::send(tcp->fd(), wire.out.data(), wire.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
    }
  }
  wire.out.clear();
  transport->Close();
}

void TlsStream::Close() { impl_->Close(); }

bool TlsStream::IsIdleUsable() {
  Impl& s = *impl_;
  if (s.closed || s.eof || !s.read_error.ok() || !s.write_error.ok() || s.shutdown_sent ||
      s.reading || s.writing || s.flushing) {
    return false;
  }
  if (SSL_pending(s.ssl) > 0) return false;  // decrypted bytes nobody read
  if (s.wire.unconsumed() > 0 || SSL_has_pending(s.ssl) == 1) {
    // Records received but not processed: a session ticket is fine; data, close_notify,
    // garbage or half a record is not. SSL_peek processes them without taking data.
    ErrorQueueScope errors;
    char byte;
    size_t n = 0;
    const int r = SSL_peek_ex(s.ssl, &byte, 1, &n);
    if (r == 1 || SSL_get_error(s.ssl, r) != SSL_ERROR_WANT_READ) return false;
    if (s.wire.unconsumed() > 0 || SSL_has_pending(s.ssl) == 1) return false;
  }
  return s.transport->IsIdleUsable();
}

std::string TlsStream::PeerName() const { return impl_->transport->PeerName(); }

// --- what the handshake settled ---------------------------------------------------------------

bool TlsStream::session_reused() const { return SSL_session_reused(impl_->ssl) == 1; }

std::string TlsStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(impl_->ssl, &data, &len);
  return len == 0 ? std::string() : std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsStream::version() const { return SSL_get_version(impl_->ssl); }

std::string TlsStream::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(impl_->ssl);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

const std::string& TlsStream::server_name() const { return impl_->server_name; }
bool TlsStream::close_notify_received() const { return impl_->close_notify_received; }
const std::string& TlsStream::peer_description() const { return impl_->who; }
ByteStream& TlsStream::transport() { return *impl_->transport; }

}  // namespace corio::tls
