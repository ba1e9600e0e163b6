#include "net/http/internal/connection.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "loop/event_loop.h"

namespace corio::http::http_internal {

namespace {
constexpr size_t kInitialBuffer = 8 * 1024;
}

Task<absl::StatusOr<size_t>> ReadBefore(ByteStream& stream, absl::Span<char> buf,
                                        absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    co_return co_await stream.Read(buf);
  }
  co_return co_await stream.ReadBefore(buf, deadline);
}

absl::Status ReadTimeoutError(const ReadLimits& limits, absl::string_view what) {
  EventLoop* loop = EventLoop::Current();
  const bool total = loop != nullptr && loop->Now() >= limits.total_deadline;
  return absl::DeadlineExceededError(absl::StrCat(
      "http ", what, ": ", total ? "total" : "read", " timeout ",
      absl::FormatDuration(total ? limits.total_timeout : limits.read_timeout), " exceeded"));
}

Connection::Connection(std::unique_ptr<ByteStream> stream, std::string key, std::string peer,
                       ParserLimits limits)
    : stream_(std::move(stream)),
      key_(std::move(key)),
      peer_(std::move(peer)),
      parser_(limits),
      max_buffer_(std::max<size_t>(kInitialBuffer, limits.max_head_bytes + 4096)) {}

Connection::~Connection() {
  if (stream_) stream_->Close();
}

namespace {
absl::Time ReadDeadline(const ReadLimits& limits) {
  if (limits.read_timeout == absl::InfiniteDuration()) return limits.total_deadline;
  return std::min(limits.total_deadline, EventLoop::Current()->Now() + limits.read_timeout);
}
}  // namespace

Task<absl::StatusOr<size_t>> Connection::Fill(const ReadLimits& limits, absl::string_view what) {
  if (begin_ > 0 && (end_ == cap_ || begin_ >= cap_ / 2)) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == cap_) {
    const size_t cap = cap_ == 0 ? kInitialBuffer : std::min(cap_ * 2, max_buffer_);
    if (cap <= cap_) {
      // The parser's limits stop a head before this; a full buffer is a bug
      // upstream.
      co_return absl::ResourceExhaustedError(
          absl::StrCat("http ", what, ": read buffer full (", cap_, " bytes)"));
    }
    std::unique_ptr<char[]> grown(new char[cap]);
    if (end_ > 0) std::memcpy(grown.get(), buf_.get(), end_);
    buf_ = std::move(grown);
    cap_ = cap;
  }
  absl::StatusOr<size_t> n = co_await ReadBefore(
      *stream_, absl::MakeSpan(buf_.get() + end_, cap_ - end_), ReadDeadline(limits));
  if (!n.ok()) {
    if (absl::IsDeadlineExceeded(n.status())) co_return ReadTimeoutError(limits, what);
    co_return n.status();
  }
  end_ += *n;
  co_return *n;
}

Task<absl::StatusOr<size_t>> Connection::ReadInto(absl::Span<char> out, const ReadLimits& limits,
                                                  absl::string_view what) {
  absl::StatusOr<size_t> n = co_await ReadBefore(*stream_, out, ReadDeadline(limits));
  if (!n.ok() && absl::IsDeadlineExceeded(n.status())) co_return ReadTimeoutError(limits, what);
  co_return n;
}

bool Connection::IsIdleUsable() const {
  return begin_ == end_ && stream_->IsIdleUsable();  // no bytes nobody asked for
}

}  // namespace corio::http::http_internal
