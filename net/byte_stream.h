// ByteStream: what the HTTP client reads from and writes to, implemented by TCP and TLS (and
// by test doubles such as //testing:memory_stream).
//
//   absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));   // 0 at EOF
//   absl::StatusOr<size_t> m = co_await stream.ReadBefore(absl::MakeSpan(buf), deadline);
//   CORIO_CO_RETURN_IF_ERROR(co_await stream.WriteAll(request));
//   absl::string_view parts[] = {head, body};
//   CORIO_CO_RETURN_IF_ERROR(co_await stream.WriteAllv(parts));           // one writev
//   if (!stream.IsIdleUsable()) { /* the pool drops it */ }
//
// Completion contract: each operation resumes once, on the thread of the loop that runs the
// awaiting task; operations that can complete at once do (no suspension), but a stream yields
// to other tasks now and then so one busy stream cannot starve the loop.
// Cancel safety: a Read/ReadBefore that took bytes returns them (OK with the count); it
// returns CANCELLED only when no byte was taken, so cancelling a reader never loses data. An
// operation may refuse to start in a task already cancelled (CANCELLED, nothing taken:
// TcpStream and MemoryStream do). Write returns how many
// bytes it wrote once it wrote any. WriteAll/WriteAllv fail (CANCELLED or the error) saying
// in the message how many bytes were written before ("after 10 of 25 bytes"). ReadExactly
// keeps what it read in `buf` but cannot say how much on failure: use //net:buffered_reader
// to read exact amounts without losing bytes.
// Threading: one loop's thread; at most one read (Read/ReadBefore/ReadExactly) and one write
// (Write/WriteAll/WriteAllv/Shutdown) at a time.
// Ownership: the caller keeps `buf`, `data` and `pieces` (and the bytes they view) alive until
// the operation completes.
// Errors: the errno of the failing syscall with the peer in the message
// ("read from 127.0.0.1:8080: Connection reset by peer"); ReadExactly returns UNAVAILABLE
// when the peer closes early; ReadBefore DEADLINE_EXCEEDED when nothing arrived in time;
// FAILED_PRECONDITION on a closed stream.
#ifndef CORIO_NET_BYTE_STREAM_H_
#define CORIO_NET_BYTE_STREAM_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tasks/task.h"

namespace corio {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Reads what is available, at least one byte; 0 means the peer closed its side (EOF).
  virtual Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) = 0;
  virtual Task<absl::Status> WriteAll(absl::string_view data) = 0;
  // Half-closes: the peer reads EOF; reading goes on.
  virtual Task<absl::Status> Shutdown() = 0;
  virtual void Close() = 0;

  // Read, failing with DEADLINE_EXCEEDED when nothing arrived by `deadline` (the loop's clock,
  // EventLoop::Now()); bytes that arrived in time are returned even if the deadline passes
  // meanwhile. Default: Read under WithDeadline (a child task per call); TcpStream arms a
  // timer on its own wait instead.
  virtual Task<absl::StatusOr<size_t>> ReadBefore(absl::Span<char> buf, absl::Time deadline);

  // Writes every piece, in order, as if concatenated (TcpStream: writev, no copy). Default:
  // WriteAll of each piece in turn.
  virtual Task<absl::Status> WriteAllv(absl::Span<const absl::string_view> pieces);

  // WriteAllv, failing with DEADLINE_EXCEEDED when the stream has not taken every byte by
  // `deadline` (the loop's clock; the message says how far it got; InfiniteFuture: no bound).
  // Default: WriteAllv under WithDeadline (a child task per call); TcpStream arms a timer on
  // its own wait instead, and only when the socket cannot take the bytes at once.
  virtual Task<absl::Status> WriteAllvBefore(absl::Span<const absl::string_view> pieces,
                                             absl::Time deadline);

  // Writes some of `data` (at least one byte unless `data` is empty), waiting only until the
  // stream can take any; returns how many bytes it wrote. Default: WriteAll(data).
  virtual Task<absl::StatusOr<size_t>> Write(absl::string_view data);

  // For a connection pool, about an idle stream: false when the peer closed or reset it, or
  // sent bytes nobody asked for; true when it looks usable. Never suspends and never consumes
  // bytes (TcpStream: a non-blocking MSG_PEEK). Default: true.
  virtual bool IsIdleUsable() { return true; }

  // The peer, for messages ("127.0.0.1:8080", "[::1]:443"). Default: "peer".
  virtual std::string PeerName() const { return "peer"; }

  // Fills `buf` completely, or fails (UNAVAILABLE if the peer closed first).
  Task<absl::Status> ReadExactly(absl::Span<char> buf);
};

}  // namespace corio

#endif  // CORIO_NET_BYTE_STREAM_H_
