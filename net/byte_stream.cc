#include "net/byte_stream.h"

#include "absl/strings/str_cat.h"
#include "tasks/with_timeout.h"

namespace corio {

Task<absl::Status> ByteStream::ReadExactly(absl::Span<char> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    absl::StatusOr<size_t> n = co_await Read(buf.subspan(got));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return absl::UnavailableError(
          absl::StrCat("connection closed after ", got, " of ", buf.size(), " bytes"));
    }
    got += *n;
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> ByteStream::ReadBefore(absl::Span<char> buf, absl::Time deadline) {
  // WithDeadline keeps a result the read still produced while being cancelled, so bytes taken
  // by a cancel-safe Read are never dropped here.
  absl::StatusOr<size_t> n = co_await WithDeadline(deadline, Read(buf));
  if (absl::IsDeadlineExceeded(n.status())) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("read from ", PeerName(), ": deadline exceeded"));
  }
  co_return n;
}

Task<absl::Status> ByteStream::WriteAllv(absl::Span<const absl::string_view> pieces) {
  size_t total = 0;
  for (absl::string_view p : pieces) total += p.size();
  size_t done = 0;
  for (absl::string_view p : pieces) {
    absl::Status s = co_await WriteAll(p);
    if (!s.ok()) {
      co_return absl::Status(s.code(), absl::StrCat(s.message(), " (after ", done, " of ", total,
                                                    " bytes of the vector)"));
    }
    done += p.size();
  }
  co_return absl::OkStatus();
}

Task<absl::Status> ByteStream::WriteAllvBefore(absl::Span<const absl::string_view> pieces,
                                               absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    co_return co_await WriteAllv(pieces);
  }
  absl::Status s = co_await WithDeadline(deadline, WriteAllv(pieces));
  if (absl::IsDeadlineExceeded(s)) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("write to ", PeerName(), ": deadline exceeded"));
  }
  co_return s;
}

Task<absl::StatusOr<size_t>> ByteStream::Write(absl::string_view data) {
  absl::Status s = co_await WriteAll(data);
  if (!s.ok()) co_return s;
  co_return data.size();
}

}  // namespace corio
