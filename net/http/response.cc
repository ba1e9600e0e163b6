#include "net/http/response.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "net/http/internal/body_reader.h"

namespace corio::http {

namespace {
constexpr size_t kPrefetchBytes = 64 * 1024;
}  // namespace

Response::Response() = default;
Response::~Response() = default;
Response::Response(Response&& other) noexcept = default;
Response& Response::operator=(Response&& other) noexcept = default;

bool Response::body_done() const { return reader_ == nullptr || reader_->done(); }

namespace {
absl::StatusCode CodeForStatus(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return status < 500 ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kInternal;
  }
}
}  // namespace

absl::Status Response::RaiseForStatus() const {
  if (status_ < 400) return absl::OkStatus();
  return absl::Status(CodeForStatus(status_), absl::StrCat("http ", status_, " ", reason_, ": ",
                                                           method_, " ", url_.ToString()));
}

Task<absl::StatusOr<size_t>> Response::Read(absl::Span<char> buf) {
  if (body_pos_ < body_.size()) {
    const size_t n = std::min(buf.size(), body_.size() - body_pos_);
    std::memcpy(buf.data(), body_.data() + body_pos_, n);
    body_pos_ += n;
    co_return n;
  }
  if (reader_ == nullptr) co_return size_t{0};
  absl::StatusOr<size_t> n = co_await reader_->Read(buf);
  if (n.ok()) body_bytes_ += *n;
  co_return n;
}

Task<absl::Status> Response::Prefetch() {
  if (reader_ == nullptr || !reader_->RawBodyBuffered(kPrefetchBytes)) co_return absl::OkStatus();
  const size_t want = reader_->PendingBytes();
  body_.resize(want);
  size_t got = 0;
  // Everything is buffered: these reads never suspend, and the last one (0) releases the
  // connection.
  for (;;) {
    absl::StatusOr<size_t> n =
        co_await reader_->Read(absl::MakeSpan(body_.data() + got, want - got));
    if (!n.ok()) {
      body_.resize(got);
      co_return n.status();
    }
    got += *n;
    body_bytes_ += *n;
    if (*n == 0 || got == want) break;
  }
  if (!reader_->done()) {
    char probe;
    absl::StatusOr<size_t> end = co_await reader_->Read(absl::MakeSpan(&probe, 1));
    if (!end.ok()) co_return end.status();
  }
  body_.resize(got);
  co_return absl::OkStatus();
}

Task<absl::StatusOr<std::string>> Response::Text() {
  std::string out;
  if (body_pos_ == 0) {
    out = std::move(body_);
  } else {
    out.assign(body_, std::min(body_pos_, body_.size()));
  }
  body_.clear();
  body_pos_ = 0;
  if (reader_ != nullptr && !reader_->done()) {
    if (content_length_.has_value() && *content_length_ < (uint64_t{64} << 20)) {
      out.reserve(out.size() + static_cast<size_t>(*content_length_));
    }
    for (;;) {
      if (out.capacity() - out.size() < 4096) out.reserve(std::max<size_t>(16384, out.size() * 2));
      const size_t old = out.size();
      out.resize(out.capacity());
      absl::StatusOr<size_t> n =
          co_await reader_->Read(absl::MakeSpan(&out[old], out.size() - old));
      if (!n.ok()) co_return n.status();
      out.resize(old + *n);
      body_bytes_ += *n;
      if (*n == 0) break;
    }
  }
  co_return out;
}

Task<absl::Status> Response::Discard() {
  body_pos_ = body_.size();
  if (reader_ == nullptr || reader_->done()) co_return absl::OkStatus();
  // The bytes are dropped: every Discard on this thread may share one scratch buffer.
  static thread_local char scratch[16384];
  for (;;) {
    absl::StatusOr<size_t> n = co_await reader_->Read(absl::MakeSpan(scratch, sizeof scratch));
    if (!n.ok()) co_return n.status();
    body_bytes_ += *n;
    if (*n == 0) co_return absl::OkStatus();
  }
}

void Response::Close() {
  if (reader_ != nullptr && !reader_->done()) reader_->Abort();
}

}  // namespace corio::http
