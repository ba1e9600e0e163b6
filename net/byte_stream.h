// ByteStream: what the HTTP client reads from and writes to, implemented by TCP and TLS.
//
//   absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));   // 0 at EOF
//   CORIO_CO_RETURN_IF_ERROR(co_await stream.WriteAll(request));
//   CORIO_CO_RETURN_IF_ERROR(co_await stream.ReadExactly(absl::MakeSpan(header)));
//
// Completion contract: each operation resumes once, on the loop's thread; operations that can
// complete at once do (no suspension), but a stream yields to other tasks now and then so one
// busy stream cannot starve the loop. Cancelling the task makes a pending operation return
// CANCELLED (data already read or written stays read or written).
// Threading: one loop's thread; one Read and one write (WriteAll/Shutdown) at a time.
// Errors: the errno of the failing syscall with the peer in the message
// ("read from 127.0.0.1:8080: Connection reset by peer"); ReadExactly returns UNAVAILABLE
// when the peer closes early.
#ifndef CORIO_NET_BYTE_STREAM_H_
#define CORIO_NET_BYTE_STREAM_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

  // Fills `buf` completely, or fails (UNAVAILABLE if the peer closed first).
  Task<absl::Status> ReadExactly(absl::Span<char> buf);
};

}  // namespace corio

#endif  // CORIO_NET_BYTE_STREAM_H_
