// TcpStream: a TCP connection driven by the current event loop (asyncio's open_connection).
//
//   CORIO_CO_ASSIGN_OR_RETURN(corio::TcpStream conn,
//       co_await corio::TcpStream::Connect(addr, absl::Seconds(5)));
//   CORIO_CO_RETURN_IF_ERROR(co_await conn.WriteAll("ping"));
//   absl::StatusOr<size_t> n = co_await conn.ReadBefore(absl::MakeSpan(buf), deadline);
//
// Connect is non-blocking; it honours the timeout and the task's cancellation at every point,
// and closes the socket on every failure path. Sockets are created with TCP_NODELAY.
// Completion contract, cancel safety and errors: see ByteStream. ReadBefore waits with a timer
// on the socket's own wait (no task per call), and so does WriteAllvBefore. A read that finds
// the socket drained by the previous one (a short read) and no readiness event since waits for
// the next event instead of trying a read that would nearly always find nothing (EAGAIN):
// after a request is written, its response is seldom there yet. (That holds for TCP, and for
// Adopt()ed Unix stream sockets with one writer that passes no fds; a peer's FIN, reset or
// urgent mark that came with the last bytes keeps the stream readable.) A read whose deadline
// passes tries once more before DEADLINE_EXCEEDED, so bytes that arrived in time still win.
// WriteAllv is one sendmsg (writev) per burst.
// IsIdleUsable peeks (MSG_PEEK | MSG_DONTWAIT): false on EOF, a reset or unread bytes. Connect
// fails with the errno mapped to a canonical code and the address in the message
// ("connect 127.0.0.1:9: Connection refused"), DEADLINE_EXCEEDED after `timeout`, CANCELLED
// when the task is cancelled.
// Threading: one loop's thread.
// Ownership: owns the socket; destroying the stream closes it, and an operation waiting on it
// resumes with CANCELLED. Moving a TcpStream (into a growing vector, a pool...) while tasks
// wait on it is harmless: operations refer to the connection's heap state, not to the object.
#ifndef CORIO_NET_TCP_STREAM_H_
#define CORIO_NET_TCP_STREAM_H_

#include <memory>
#include <string>
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
  TcpStream();
  TcpStream(TcpStream&&) noexcept;
  TcpStream& operator=(TcpStream&&) noexcept;
  ~TcpStream() override;

  static Task<absl::StatusOr<TcpStream>> Connect(SocketAddress peer,
                                                 absl::Duration timeout = absl::InfiniteDuration());
  // Adopts a connected socket (from accept()).
  static absl::StatusOr<TcpStream> Adopt(int fd, SocketAddress peer);

  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) override;
  Task<absl::StatusOr<size_t>> ReadBefore(absl::Span<char> buf, absl::Time deadline) override;
  Task<absl::Status> WriteAll(absl::string_view data) override;
  Task<absl::Status> WriteAllv(absl::Span<const absl::string_view> pieces) override;
  Task<absl::Status> WriteAllvBefore(absl::Span<const absl::string_view> pieces,
                                     absl::Time deadline) override;
  Task<absl::StatusOr<size_t>> Write(absl::string_view data) override;
  Task<absl::Status> Shutdown() override;
  void Close() override;
  bool IsIdleUsable() override;
  std::string PeerName() const override { return peer().ToString(); }

  bool is_open() const;
  int fd() const;
  const SocketAddress& peer() const;
  absl::Status SetNoDelay(bool on);
  absl::Status SetKeepAlive(bool on);

  struct Conn;  // the connection's stable state (tcp_stream.cc)

 private:
  TcpStream(AsyncFd fd, SocketAddress peer);
  std::unique_ptr<Conn> conn_;
};

}  // namespace corio

#endif  // CORIO_NET_TCP_STREAM_H_
