// TcpStream: a TCP connection driven by the current event loop (asyncio's open_connection).
//
//   CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream conn,
//       co_await corio::TcpStream::Connect(addr, absl::Seconds(5)));
//   CORIO_CO_RETURN_IF_ERROR(co_await conn.WriteAll("ping"));
//   absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
//
// Connect is non-blocking; it honours the timeout and the task's cancellation at every point,
// and closes the socket on every failure path. Sockets are created with TCP_NODELAY.
// Completion contract and errors: see ByteStream. Connect fails with the errno mapped to a
// canonical code and the address in the message ("connect 127.0.0.1:9: Connection refused"),
// DEADLINE_EXCEEDED after `timeout`, CANCELLED when the task is cancelled.
// Threading: one loop's thread. Ownership: owns the socket; destroying the stream closes it.
#ifndef CORIO_NET_TCP_STREAM_H_
#define CORIO_NET_TCP_STREAM_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/async_fd.h"
#include "net/byte_stream.h"
#include "net/socket_address.h"
#include "tasks/task.h"

namespace corio {

class TcpStream final : public ByteStream {
 public:
  TcpStream() = default;
  TcpStream(TcpStream&&) noexcept = default;
  TcpStream& operator=(TcpStream&&) noexcept = default;

  static Task<absl::StatusOr<TcpStream>> Connect(SocketAddress peer,
                                                 absl::Duration timeout = absl::InfiniteDuration());
  // Adopts a connected socket (from accept()).
  static absl::StatusOr<TcpStream> Adopt(int fd, SocketAddress peer);

  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) override;
  Task<absl::Status> WriteAll(absl::string_view data) override;
  Task<absl::Status> Shutdown() override;
  void Close() override { fd_.Close(); }

  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.fd(); }
  const SocketAddress& peer() const { return peer_; }
  absl::Status SetNoDelay(bool on);
  absl::Status SetKeepAlive(bool on);

 private:
  TcpStream(AsyncFd fd, SocketAddress peer) : fd_(std::move(fd)), peer_(peer) {}
  AsyncFd fd_;
  SocketAddress peer_;
};

}  // namespace corio

#endif  // CORIO_NET_TCP_STREAM_H_
