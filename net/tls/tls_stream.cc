#include "net/tls/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "net/tcp_stream.h"
#include "net/tls/openssl_util.h"

namespace corio::tls {
namespace {

using tls_internal::ErrorQueueScope;
using tls_internal::OpenSslStatus;
using tls_internal::TakeErrors;

// Room for two full TLS records per transport read.
constexpr size_t kInCapacity = 2 * (16 * 1024 + 256);
// Plaintext encrypted per transport write: four full records.
constexpr size_t kWriteChunk = 64 * 1024;

// The transport's peer ("127.0.0.1:8443", "[::1]:443"), or "" when it cannot tell.
std::string TransportPeer(const ByteStream& transport) {
  if (const auto* tcp = dynamic_cast<const TcpStream*>(&transport)) {
    return tcp->peer().ToString();
  }
  return "";
}

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

// What the first record said when it was not TLS at all.
bool IsNotTls(int reason) {
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_UNSUPPORTED_PROTOCOL:
      return true;
    default:
      return false;
  }
}

}  // namespace

// --- the wire: a BIO over two buffers ---------------------------------------------------------

absl::Span<char> TlsStream::Wire::InRoom() {
  if (in.empty()) in.resize(kInCapacity);
  if (in_begin == in_end) {
    in_begin = in_end = 0;
  } else if (in_end == in.size() && in_begin > 0) {
    std::memmove(in.data(), in.data() + in_begin, in_end - in_begin);
    in_end -= in_begin;
    in_begin = 0;
  }
  return absl::MakeSpan(in.data() + in_end, in.size() - in_end);
}

int TlsStream::BioWrite(BIO* bio, const char* data, size_t len, size_t* written) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  self->wire_.out.append(data, len);
  *written = len;
  return 1;
}

int TlsStream::BioRead(BIO* bio, char* data, size_t len, size_t* read) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  Wire& w = self->wire_;
  BIO_clear_retry_flags(bio);
  const size_t available = w.in_end - w.in_begin;
  if (available == 0) {
    // Not EOF: "come back later". The stream reads the transport and calls OpenSSL again.
    BIO_set_retry_read(bio);
    *read = 0;
    return 0;
  }
  const size_t n = std::min(len, available);
  std::memcpy(data, w.in.data() + w.in_begin, n);
  w.in_begin += n;
  *read = n;
  return 1;
}

long TlsStream::BioCtrl(BIO* bio, int cmd, long num, void* ptr) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // the stream flushes after each OpenSSL call
    case BIO_CTRL_PENDING:
      return static_cast<long>(self->wire_.in_end - self->wire_.in_begin);
    case BIO_CTRL_WPENDING:
      return static_cast<long>(self->wire_.out.size());
    default:
      return 0;
  }
}

BIO_METHOD* TlsStream::WireMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "corio tls wire");
    BIO_meth_set_write_ex(m, &TlsStream::BioWrite);
    BIO_meth_set_read_ex(m, &TlsStream::BioRead);
    BIO_meth_set_ctrl(m, &TlsStream::BioCtrl);
    return m;
  }();
  return method;
}

// --- handshake --------------------------------------------------------------------------------

TlsStream::TlsStream(std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport)
    : ctx_(std::move(ctx)), transport_(std::move(transport)) {}

TlsStream::~TlsStream() {
  Close();
  if (ssl_ != nullptr) {
    ErrorQueueScope errors;
    SSL_free(ssl_);
  }
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> TlsStream::Connect(
    std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport_param,
    std::string host) {
  // A local, not the parameter: it is closed as soon as this returns, not when the frame goes.
  std::unique_ptr<ByteStream> transport = std::move(transport_param);
  if (ctx == nullptr || ctx->is_server()) {
    co_return absl::InvalidArgumentError(
        "tls: Connect needs a client context (TlsContext::CreateClient)");
  }
  if (transport == nullptr) co_return absl::InvalidArgumentError("tls: Connect without transport");
  std::unique_ptr<TlsStream> stream(new TlsStream(std::move(ctx), std::move(transport)));
  CORIO_CO_RETURN_IF_ERROR(stream->SetUp(/*server=*/false, std::move(host)));
  absl::Status handshake = co_await stream->Handshake();
  if (!handshake.ok()) co_return handshake;
  co_return std::move(stream);
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> TlsStream::Accept(
    std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport_param) {
  std::unique_ptr<ByteStream> transport = std::move(transport_param);
  if (ctx == nullptr || !ctx->is_server()) {
    co_return absl::InvalidArgumentError(
        "tls: Accept needs a server context (TlsContext::CreateServer)");
  }
  if (transport == nullptr) co_return absl::InvalidArgumentError("tls: Accept without transport");
  std::unique_ptr<TlsStream> stream(new TlsStream(std::move(ctx), std::move(transport)));
  CORIO_CO_RETURN_IF_ERROR(stream->SetUp(/*server=*/true, ""));
  absl::Status handshake = co_await stream->Handshake();
  if (!handshake.ok()) co_return handshake;
  co_return std::move(stream);
}

absl::Status TlsStream::SetUp(bool server, std::string host) {
  ErrorQueueScope errors;
  const std::string peer = TransportPeer(*transport_);
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
    if (host.empty() && !ctx_->insecure()) {
      return absl::InvalidArgumentError(
          "tls: Connect needs the server's host name or IP address to verify its certificate");
    }
    if (peer.empty()) {
      who_ = host.empty() ? std::string("the server") : host;
    } else if (host.empty() || PeerIp(peer) == host) {
      who_ = peer;
    } else {
      who_ = absl::StrCat(host, " (", peer, ")");
    }
    session_key_ = absl::StrCat(host, ":", PeerPort(peer));
    ssl_ = ctx_->NewSsl(&session_key_);
  } else {
    who_ = peer.empty() ? std::string("the client") : peer;
    ssl_ = ctx_->NewSsl(nullptr);
  }
  if (ssl_ == nullptr) return OpenSslStatus(absl::StatusCode::kInternal, "tls: SSL_new");
  BIO* bio = BIO_new(WireMethod());
  if (bio == nullptr) return OpenSslStatus(absl::StatusCode::kInternal, "tls: BIO_new");
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO (one reference for both directions)
  if (server) {
    SSL_set_accept_state(ssl_);
    return absl::OkStatus();
  }

  SSL_set_connect_state(ssl_);
  if (ip.empty() && !host.empty()) {
    if (SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1) {
      return OpenSslStatus(absl::StatusCode::kInvalidArgument,
                           absl::StrCat("tls: server name \"", host, "\""));
    }
    server_name_ = host;
  }
  if (!ctx_->insecure()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip.empty() ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                               : X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
    if (set != 1) {
      return OpenSslStatus(absl::StatusCode::kInvalidArgument,
                           absl::StrCat("tls: cannot verify against \"", host, "\""));
    }
  }
  if (SSL_SESSION* session = ctx_->TakeSession(session_key_)) {
    SSL_set_session(ssl_, session);  // takes its own reference
    SSL_SESSION_free(session);
  }
  return absl::OkStatus();
}

Task<absl::Status> TlsStream::Handshake() {
  for (;;) {
    int ssl_error = SSL_ERROR_NONE;
    absl::Status failure;
    {
      ErrorQueueScope errors;
      const int r = SSL_do_handshake(ssl_);
      if (r != 1) ssl_error = SSL_get_error(ssl_, r);
      if (ssl_error != SSL_ERROR_NONE && ssl_error != SSL_ERROR_WANT_READ) {
        failure = HandshakeFailure(ssl_error);
      }
    }
    // Whatever OpenSSL produced goes out first: the next flight, or the alert that tells
    // the peer why we give up.
    if (!wire_.out.empty()) {
      absl::Status sent = co_await Flush();
      if (!failure.ok()) co_return failure;
      if (!sent.ok()) co_return HandshakeIoFailure(sent);
    }
    if (!failure.ok()) co_return failure;
    if (ssl_error == SSL_ERROR_NONE) break;
    absl::StatusOr<size_t> n = co_await transport_->Read(wire_.InRoom());
    if (!n.ok()) co_return HandshakeIoFailure(n.status());
    if (*n == 0) {
      co_return absl::UnavailableError(absl::StrCat(
          "tls handshake with ", who_, ": the peer closed the connection during the handshake"));
    }
    wire_.in_end += *n;
  }
  handshake_done_ = true;
  if (ctx_->is_server()) {
    const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    server_name_ = sni != nullptr ? sni : "";
  }
  co_return absl::OkStatus();
}

absl::Status TlsStream::HandshakeIoFailure(const absl::Status& s) const {
  return absl::Status(s.code(), absl::StrCat("tls handshake with ", who_, ": ", s.message()));
}

absl::Status TlsStream::HandshakeFailure(int ssl_error) {
  const std::string prefix = absl::StrCat("tls handshake with ", who_, ": ");
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
    const long v = SSL_get_verify_result(ssl_);
    std::string detail = X509_verify_cert_error_string(v);
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      X509* cert = SSL_get0_peer_certificate(ssl_);
      STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_);
      if (cert == nullptr && chain != nullptr && sk_X509_num(chain) > 0) {
        cert = sk_X509_value(chain, 0);
      }
      if (cert != nullptr)
        absl::StrAppend(&detail, " (the certificate is for ", CertificateNames(cert), ")");
    } else if (IsTrustError(v) && ctx_->system_store_empty()) {
      absl::StrAppend(&detail,
                      " (no system CA certificates were found: install the ca-certificates "
                      "package, or pass ca_file)");
    }
    return absl::UnauthenticatedError(absl::StrCat(prefix, "certificate verify failed: ", detail));
  }
  if (IsCertificateAlert(reason)) {
    return absl::UnauthenticatedError(
        absl::StrCat(prefix, "the peer rejected the certificate: ", reasons));
  }
  if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer does not speak TLS: it sent a plain HTTP request"));
  }
  if (IsNotTls(reason)) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer does not speak TLS (", reasons, ")"));
  }
  return absl::UnavailableError(absl::StrCat(prefix, reasons));
}

// --- data -------------------------------------------------------------------------------------

TlsStream::ReadStep TlsStream::DecryptAvailable(absl::Span<char> buf, size_t* got) {
  ErrorQueueScope errors;
  *got = 0;
  while (*got < buf.size()) {
    size_t n = 0;
    const int r = SSL_read_ex(ssl_, buf.data() + *got, buf.size() - *got, &n);
    if (r == 1) {
      *got += n;
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return ReadStep::kWantRead;
    if (e == SSL_ERROR_ZERO_RETURN) {
      close_notify_received_ = true;
      eof_ = true;
      return ReadStep::kEof;
    }
    const std::string reasons = TakeErrors();
    read_error_ = absl::UnavailableError(absl::StrCat(
        "tls read from ", who_, ": ", reasons.empty() ? "failed (no reason given)" : reasons));
    return ReadStep::kError;
  }
  return ReadStep::kData;
}

Task<absl::StatusOr<size_t>> TlsStream::Read(absl::Span<char> buf) {
  if (closed_) co_return absl::FailedPreconditionError("tls: read from a closed TlsStream");
  if (reading_) co_return absl::FailedPreconditionError("tls: two concurrent reads");
  if (!read_error_.ok()) co_return read_error_;
  if (eof_ || buf.empty()) co_return 0;
  reading_ = true;
  absl::StatusOr<size_t> result;
  for (;;) {
    size_t got = 0;
    const ReadStep step = DecryptAvailable(buf, &got);
    // Bytes first: an EOF or error found after them is sticky and seen by the next Read.
    if (got > 0) {
      result = got;
      break;
    }
    if (step == ReadStep::kEof) {
      result = 0;
      break;
    }
    if (step == ReadStep::kError) {
      write_error_ = read_error_;
      if (!wire_.out.empty() && !flushing_) {
        absl::Status alert_sent = co_await Flush();  // best effort: tell the peer why
        (void)alert_sent;
      }
      result = read_error_;
      break;
    }
    absl::StatusOr<size_t> n = co_await transport_->Read(wire_.InRoom());
    if (!n.ok()) {
      // Nothing was taken: a cancelled (or timed-out) read leaves the stream as it was.
      if (!absl::IsCancelled(n.status()) && !absl::IsDeadlineExceeded(n.status())) {
        read_error_ = n.status();
      }
      result = n.status();
      break;
    }
    if (*n == 0) {
      eof_ = true;  // without close_notify: see close_notify_received()
      result = 0;
      break;
    }
    wire_.in_end += *n;
  }
  reading_ = false;
  co_return result;
}

Task<absl::Status> TlsStream::Flush() {
  flushing_ = true;
  absl::Status result;
  while (!wire_.out.empty()) {
    sending_.swap(wire_.out);
    absl::Status s = co_await transport_->WriteAll(sending_);
    sending_.clear();
    if (!s.ok()) {
      write_error_ =
          absl::IsCancelled(s)
              ? absl::UnavailableError(absl::StrCat(
                    "tls: a write to ", who_,
                    " was cancelled while a record was going out; the stream cannot be written"))
              : s;
      wire_.out.clear();
      result = s;
      break;
    }
  }
  flushing_ = false;
  co_return result;
}

Task<absl::Status> TlsStream::WriteAll(absl::string_view data) {
  if (closed_) co_return absl::FailedPreconditionError("tls: write to a closed TlsStream");
  if (writing_ || flushing_) co_return absl::FailedPreconditionError("tls: two concurrent writes");
  if (!write_error_.ok()) co_return write_error_;
  if (shutdown_sent_) {
    co_return absl::FailedPreconditionError(
        absl::StrCat("tls: write to ", who_, " after Shutdown"));
  }
  writing_ = true;
  absl::Status result;
  while (!data.empty()) {
    const size_t chunk = std::min(data.size(), kWriteChunk);
    {
      ErrorQueueScope errors;
      size_t written = 0;
      // The BIO takes everything, so SSL_write encrypts the whole chunk or fails for good.
      if (SSL_write_ex(ssl_, data.data(), chunk, &written) != 1) {
        write_error_ =
            OpenSslStatus(absl::StatusCode::kUnavailable, absl::StrCat("tls write to ", who_));
        result = write_error_;
        break;
      }
    }
    data.remove_prefix(chunk);
    result = co_await Flush();
    if (!result.ok()) break;
  }
  writing_ = false;
  co_return result;
}

Task<absl::Status> TlsStream::Shutdown() {
  if (closed_) co_return absl::FailedPreconditionError("tls: shutdown of a closed TlsStream");
  if (writing_ || flushing_) {
    co_return absl::FailedPreconditionError("tls: Shutdown during a write");
  }
  if (!write_error_.ok()) co_return write_error_;
  if (!shutdown_sent_) {
    ErrorQueueScope errors;
    shutdown_sent_ = true;
    SSL_shutdown(ssl_);  // queues close_notify (the first call never reads)
  }
  writing_ = true;
  absl::Status s = co_await Flush();
  writing_ = false;
  if (!s.ok()) co_return s;
  co_return co_await transport_->Shutdown();
}

void TlsStream::TrySendWithoutWaiting() {
  auto* tcp = dynamic_cast<TcpStream*>(transport_.get());
  if (tcp == nullptr || !tcp->is_open() || wire_.out.empty()) return;
  // One small alert into an idle socket buffer: it fits or is dropped, never waited for.
  (void)::send(tcp->fd(), wire_.out.data(), wire_.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void TlsStream::Close() {
  if (closed_) return;
  closed_ = true;
  if (ssl_ != nullptr && handshake_done_ && !shutdown_sent_ && !flushing_ && write_error_.ok() &&
      read_error_.ok()) {
    ErrorQueueScope errors;
    shutdown_sent_ = true;
    // Also marks the session as cleanly ended, so it stays resumable.
    if (SSL_shutdown(ssl_) >= 0) TrySendWithoutWaiting();
  }
  wire_.out.clear();
  transport_->Close();
}

// --- what the handshake settled ---------------------------------------------------------------

bool TlsStream::session_reused() const { return SSL_session_reused(ssl_) == 1; }

std::string TlsStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsStream::version() const { return SSL_get_version(ssl_); }

std::string TlsStream::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

}  // namespace corio::tls
