// MemoryStreamPair: two connected in-memory ByteStreams for deterministic tests of whatever
// runs over a byte stream (TLS, the HTTP client, a pool): no sockets, no kernel, no timing.
// What one end writes the other reads, in order; each end can be told to misbehave.
//
//   auto [client, server] = corio::testing::MemoryStreamPair();
//   server->set_max_read(1);                    // short reads: one byte per Read
//   CORIO_CO_RETURN_IF_ERROR(co_await client->WriteAll("GET / HTTP/1.1\r\n\r\n"));
//   client->InjectEof();                        // client reads EOF after what is buffered
//   server->InjectReset();                      // both ends fail: "connection reset by peer"
//   server->FailNextRead(absl::DataLossError("boom"));
//
// Semantics: Read returns what is buffered (at most max_read bytes when set), waiting only
// when nothing is; 0 at EOF (the peer shut down or closed, or InjectEof, once the buffer is
// drained). Writes complete at once while the peer has fewer than `capacity` unread bytes,
// and otherwise wait for the peer to read (backpressure; Write returns what fit). Shutdown
// makes the peer read EOF; Close (or destroying an end) makes the peer read EOF and this end's
// pending and later operations fail (pending ones with CANCELLED, later ones with
// FAILED_PRECONDITION). After InjectReset every operation on either end fails with
// UNAVAILABLE "... connection reset by peer" and unread bytes are dropped. IsIdleUsable is
// false when bytes are unread, at EOF, after a reset or on a closed end. PeerName is the
// peer's name from Options.
// Completion contract: operations resume once, on the loop's thread; they complete without
// suspending whenever they can (no fairness yields: the order of events is the test's), and
// otherwise resume on a later turn when the peer acts. Cancel safety as ByteStream says: a
// cancelled Read or Write took nothing; a task cancelled before the call gets CANCELLED.
// Threading: one loop's thread for both ends. Ownership: each end is owned by its holder;
// the shared buffers live until both ends and every pending operation are gone.
#ifndef CORIO_TESTING_MEMORY_STREAM_H_
#define CORIO_TESTING_MEMORY_STREAM_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/byte_stream.h"
#include "tasks/task.h"

namespace corio::testing {

class MemoryStream final : public ByteStream {
 public:
  struct Options {
    std::string name = "memory";  // what the peer's PeerName() says
    size_t capacity = 1 << 20;    // bytes this end may hold unread before writes to it wait
    size_t max_read = 0;          // bytes per Read at most (0: no limit; 1: one at a time)
  };
  struct Shared;

  MemoryStream(std::shared_ptr<Shared> shared, int side)
      : shared_(std::move(shared)), side_(side) {}
  ~MemoryStream() override { Close(); }
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;

  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) override;
  Task<absl::Status> WriteAll(absl::string_view data) override;
  Task<absl::StatusOr<size_t>> Write(absl::string_view data) override;
  Task<absl::Status> Shutdown() override;
  void Close() override;
  bool IsIdleUsable() override;
  std::string PeerName() const override;

  // Knobs (take effect at once, also on operations already waiting).
  void set_max_read(size_t n);
  void InjectEof();
  void InjectReset();
  void FailNextRead(absl::Status error);
  void FailNextWrite(absl::Status error);

  size_t unread() const;         // bytes the peer wrote that this end has not read
  size_t bytes_read() const;     // total read by this end
  size_t bytes_written() const;  // total written by this end

 private:
  std::shared_ptr<Shared> shared_;
  int side_;
};

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> MemoryStreamPair(
    MemoryStream::Options first = {.name = "memory-client"},
    MemoryStream::Options second = {.name = "memory-server"});

}  // namespace corio::testing

#endif  // CORIO_TESTING_MEMORY_STREAM_H_
