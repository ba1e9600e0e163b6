// TlsStream: TLS (1.2, 1.3) over any ByteStream — a TcpStream, an in-memory pair, a proxy
// tunnel — as a ByteStream itself. OpenSSL works on memory buffers that the stream fills and
// drains with the transport's own Read/WriteAll on the loop; no blocking socket I/O.
//
//   CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream tcp, co_await corio::TcpStream::Connect(addr));
//   CORIO_CO_ASSIGN_OR_RETURN(
//       std::unique_ptr<corio::tls::TlsStream> tls,
//       co_await corio::WithTimeout(absl::Seconds(10), corio::tls::TlsStream::Connect(
//           ctx, std::make_unique<corio::TcpStream>(std::move(tcp)), "example.com")));
//   CORIO_CO_RETURN_IF_ERROR(co_await tls->WriteAll(request));
//   absl::StatusOr<size_t> n = co_await tls->Read(absl::MakeSpan(buf));   // 0 at EOF
//   // Server side: co_await corio::tls::TlsStream::Accept(server_ctx, std::move(transport));
//
// Connect: `host` is the URL's host, a DNS name or an IP literal ("127.0.0.1", "::1" or
// "[::1]"). A name is sent as SNI and checked against the certificate's DNS names; an IP
// literal is not sent as SNI and is checked against its IP addresses. ALPN as the context
// says (http/1.1 by default). A cached session for (host, port) is offered for resumption.
//
// Completion contract: every operation resumes once, on the loop's thread; the handshake
// and I/O suspend only in the transport's Read/WriteAll, whose cancellation they inherit.
// Connect/Accept have no timeout of their own: wrap them in WithTimeout. Cancelling a
// handshake fails it with CANCELLED and destroys the transport. A Read cancelled while
// waiting returns CANCELLED before taking any byte and the stream stays usable; a write
// cancelled while its ciphertext was going out leaves the stream unwritable (a TLS record may
// be half sent): later writes fail with UNAVAILABLE.
// EOF: Read returns 0 when the peer sent close_notify, and also when the transport reaches
// EOF without one (a truncation, which TLS alone cannot judge: the HTTP framing decides
// whether more bytes were due). close_notify_received() tells the two apart.
// Shutdown sends close_notify, then half-closes the transport; reading goes on. Close (and
// destruction) sends close_notify only if the transport can take it at once (a TcpStream
// with room in its socket buffer, never a wait), then closes the transport.
//
// Threading: one loop's thread; one read and one write (WriteAll/WriteAllv/Write/Shutdown) at
// a time (a read and a write may run concurrently).
// Ownership: owns the transport and keeps its TlsContext alive. Destroying the stream closes
// it; an operation still waiting then resumes with CANCELLED.
// Errors (messages name the peer: "tls handshake with localhost (127.0.0.1:8443): ..."):
//  UNAUTHENTICATED: certificate verification failed (self-signed, unknown CA, expired, wrong
//    name or IP), or the peer rejected our certificate with an alert;
//  UNAVAILABLE: transport failures and resets (the transport's own status), the peer closing
//    during the handshake, protocol failures ("the peer does not speak TLS" for plain bytes),
//    and any other handshake failure with OpenSSL's reason; a write that fails part-way
//    says how far it got ("... (after 65536 of 1048576 bytes)");
//  CANCELLED / DEADLINE_EXCEEDED (ReadBefore) as the transport returns them (a read then
//    took nothing and the stream stays usable);
//  INVALID_ARGUMENT for a server context passed to Connect (and vice versa) or an empty host
//    without `insecure`.
// OpenSSL's per-thread error queue is emptied on every path.
#ifndef CORIO_NET_TLS_TLS_STREAM_H_
#define CORIO_NET_TLS_TLS_STREAM_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "net/byte_stream.h"
#include "net/tls/tls_context.h"
#include "tasks/task.h"

namespace corio::tls {

class TlsStream final : public ByteStream {
 public:
  static Task<absl::StatusOr<std::unique_ptr<TlsStream>>> Connect(
      std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport, std::string host);
  static Task<absl::StatusOr<std::unique_ptr<TlsStream>>> Accept(
      std::shared_ptr<TlsContext> ctx, std::unique_ptr<ByteStream> transport);

  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;
  ~TlsStream() override;

  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) override;
  // The deadline bounds each transport read (the transport's ReadBefore).
  Task<absl::StatusOr<size_t>> ReadBefore(absl::Span<char> buf, absl::Time deadline) override;
  Task<absl::Status> WriteAll(absl::string_view data) override;
  // Small pieces are coalesced into full TLS records (a head and a small body: one record).
  Task<absl::Status> WriteAllv(absl::Span<const absl::string_view> pieces) override;
  // Encrypts and sends up to 64 KiB of `data`; returns how much.
  Task<absl::StatusOr<size_t>> Write(absl::string_view data) override;
  Task<absl::Status> Shutdown() override;
  void Close() override;
  // False when the stream failed, reached EOF, was shut down or closed; when decrypted bytes
  // or unprocessed records wait unread (a ticket is fine, data or close_notify is not); and
  // when the transport says so (unread ciphertext in a TCP socket counts as unexpected bytes,
  // even if it would be only a late session ticket).
  bool IsIdleUsable() override;
  // The transport's peer ("127.0.0.1:8443").
  std::string PeerName() const override;

  // What the handshake settled.
  bool session_reused() const;
  std::string alpn() const;     // "http/1.1", or "" when none was agreed
  std::string version() const;  // "TLSv1.3"
  std::string cipher() const;   // "TLS_AES_256_GCM_SHA384"
  // Client: the SNI it sent ("" for IP literals). Server: the SNI the client sent ("" if none).
  const std::string& server_name() const;
  // Whether the peer ended its side with close_notify (see "EOF" above).
  bool close_notify_received() const;
  // Who the peer is, for messages: "localhost (127.0.0.1:8443)", "127.0.0.1:8443".
  const std::string& peer_description() const;
  ByteStream& transport();

  // The connection's state, shared with the operations in flight (so destroying the stream
  // while one waits is safe: it resumes with CANCELLED). Defined in tls_stream.cc.
  struct Impl;

 private:
  explicit TlsStream(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace corio::tls

#endif  // CORIO_NET_TLS_TLS_STREAM_H_
