// BufferedReader: buffered reading over any ByteStream — read up to a delimiter with a limit,
// peek, read at most n, read exactly n — without losing a byte to cancellation or errors.
//
//   corio::BufferedReader in(stream);
//   CORIO_CO_ASSIGN_OR_RETURN(absl::string_view line, co_await in.ReadUntil("\r\n", 8192));
//   if (line.empty()) { /* clean EOF */ }
//   CORIO_CO_ASSIGN_OR_RETURN(absl::string_view body, co_await in.ReadExactly(length));
//   CORIO_CO_ASSIGN_OR_RETURN(absl::string_view next, co_await in.Peek(1));  // consumes nothing
//
// Views: a returned view points into the reader's buffer and stays valid until the next call
// on the reader (any call that reads, consumes or peeks). Copy what you keep.
// Deadlines: every operation takes an optional `deadline` (the loop's clock) applied to each
// read it makes, through ByteStream::ReadBefore (no task per read on TcpStream).
// Completion contract: operations resume once, on the loop's thread; they complete without
// suspending when the buffer already answers them, else after one or more reads of the stream.
// Cancel safety: whatever the stream returned is in the buffer; an operation that fails
// (cancelled, timed out, stream error, limit) consumes nothing, so the next call sees every
// byte. Errors: the stream's errors; RESOURCE_EXHAUSTED when ReadUntil's delimiter is not
// within `limit` bytes (message names the delimiter, the limit and the peer); UNAVAILABLE when
// the stream ends in the middle of what was asked ("connection to X closed after 3 of 8
// bytes"); INVALID_ARGUMENT for an empty delimiter.
// Threading: one loop's thread; one operation at a time.
// Ownership: borrows `stream`, which must outlive the reader; the reader owns its buffer.
// buffered() / Release() give back what was read but not consumed (e.g. to hand the stream
// and its unread bytes to someone else).
#ifndef CORIO_NET_BUFFERED_READER_H_
#define CORIO_NET_BUFFERED_READER_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "net/byte_stream.h"
#include "tasks/task.h"

namespace corio {

class BufferedReader {
 public:
  // `chunk`: how much one read of the stream asks for at least.
  explicit BufferedReader(ByteStream& stream, size_t chunk = 16 * 1024);
  BufferedReader(const BufferedReader&) = delete;
  BufferedReader& operator=(const BufferedReader&) = delete;

  // Up to and including the first `delim`, which must lie within the first `limit` bytes;
  // consumed. Empty at a clean EOF (nothing buffered).
  Task<absl::StatusOr<absl::string_view>> ReadUntil(absl::string_view delim, size_t limit,
                                                    absl::Time deadline = absl::InfiniteFuture());
  // The next `n` bytes, fewer only at EOF (empty at EOF); consumes nothing.
  Task<absl::StatusOr<absl::string_view>> Peek(size_t n,
                                               absl::Time deadline = absl::InfiniteFuture());
  // Between 1 and `n` bytes (what is buffered, else one read); consumed. Empty at EOF.
  Task<absl::StatusOr<absl::string_view>> ReadAtMost(size_t n,
                                                     absl::Time deadline = absl::InfiniteFuture());
  // Exactly `n` bytes, consumed; UNAVAILABLE (nothing consumed) if the stream ends first.
  Task<absl::StatusOr<absl::string_view>> ReadExactly(size_t n,
                                                      absl::Time deadline = absl::InfiniteFuture());
  // ByteStream::Read semantics into `buf` (buffered bytes first): 0 at EOF.
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf,
                                    absl::Time deadline = absl::InfiniteFuture());

  // Drops `n` buffered bytes (n <= buffered().size()).
  void Consume(size_t n);
  absl::string_view buffered() const {
    return absl::string_view(buf_).substr(start_, end_ - start_);
  }
  // Takes the buffered, unconsumed bytes out of the reader.
  std::string Release();
  bool eof() const { return eof_; }
  ByteStream& stream() { return stream_; }

 private:
  // One read of the stream appended to the buffer; OK(false) at EOF.
  Task<absl::StatusOr<bool>> Fill(absl::Time deadline);
  // Ensures `n` bytes are buffered, or EOF: OK(available).
  Task<absl::StatusOr<size_t>> FillTo(size_t n, absl::Time deadline);
  size_t size() const { return end_ - start_; }

  ByteStream& stream_;
  size_t chunk_;
  std::string buf_;  // [start_, end_) is unconsumed
  size_t start_ = 0;
  size_t end_ = 0;
  size_t scanned_ = 0;  // ReadUntil: bytes from start_ already searched for the delimiter
  bool eof_ = false;
};

}  // namespace corio

#endif  // CORIO_NET_BUFFERED_READER_H_
