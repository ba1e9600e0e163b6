#include "net/buffered_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace corio {

BufferedReader::BufferedReader(ByteStream& stream, size_t chunk)
    : stream_(stream), chunk_(std::max<size_t>(chunk, 1)) {}

Task<absl::StatusOr<bool>> BufferedReader::Fill(absl::Time deadline) {
  if (eof_) co_return false;
  // Make room for a chunk at the end: move the unconsumed bytes to the front first.
  if (start_ > 0 && (buf_.size() - end_ < chunk_ || start_ == end_)) {
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (buf_.size() - end_ < chunk_) buf_.resize(std::max(buf_.size() * 2, end_ + chunk_));
  absl::Span<char> room(buf_.data() + end_, buf_.size() - end_);
  absl::StatusOr<size_t> n;
  if (deadline == absl::InfiniteFuture()) {
    n = co_await stream_.Read(room);
  } else {
    n = co_await stream_.ReadBefore(room, deadline);
  }
  if (!n.ok()) co_return n.status();
  if (*n == 0) {
    eof_ = true;
    co_return false;
  }
  end_ += *n;
  co_return true;
}

Task<absl::StatusOr<size_t>> BufferedReader::FillTo(size_t n, absl::Time deadline) {
  while (size() < n) {
    absl::StatusOr<bool> more = co_await Fill(deadline);
    if (!more.ok()) co_return more.status();
    if (!*more) break;
  }
  co_return std::min(n, size());
}

Task<absl::StatusOr<absl::string_view>> BufferedReader::ReadUntil(absl::string_view delim,
                                                                  size_t limit,
                                                                  absl::Time deadline) {
  if (delim.empty()) co_return absl::InvalidArgumentError("ReadUntil: empty delimiter");
  for (;;) {
    const absl::string_view window = buffered().substr(0, limit);
    const size_t from = scanned_ >= delim.size() ? scanned_ - (delim.size() - 1) : 0;
    const size_t at = window.find(delim, from);
    if (at != absl::string_view::npos) {
      const absl::string_view line = buffered().substr(0, at + delim.size());
      Consume(line.size());
      co_return line;
    }
    scanned_ = window.size();
    if (size() >= limit) {
      co_return absl::ResourceExhaustedError(absl::StrCat(
          "no \"", absl::CEscape(delim), "\" within ", limit, " bytes from ", stream_.PeerName()));
    }
    absl::StatusOr<bool> more = co_await Fill(deadline);
    if (!more.ok()) co_return more.status();
    if (!*more) {
      if (size() == 0) co_return absl::string_view();
      co_return absl::UnavailableError(absl::StrCat("connection to ", stream_.PeerName(),
                                                    " closed after ", size(), " bytes without \"",
                                                    absl::CEscape(delim), "\""));
    }
  }
}

Task<absl::StatusOr<absl::string_view>> BufferedReader::Peek(size_t n, absl::Time deadline) {
  absl::StatusOr<size_t> have = co_await FillTo(n, deadline);
  if (!have.ok()) co_return have.status();
  co_return buffered().substr(0, *have);
}

Task<absl::StatusOr<absl::string_view>> BufferedReader::ReadAtMost(size_t n, absl::Time deadline) {
  if (n == 0) co_return absl::string_view();
  if (size() == 0) {
    absl::StatusOr<bool> more = co_await Fill(deadline);
    if (!more.ok()) co_return more.status();
    if (!*more) co_return absl::string_view();
  }
  const absl::string_view out = buffered().substr(0, n);
  Consume(out.size());
  co_return out;
}

Task<absl::StatusOr<absl::string_view>> BufferedReader::ReadExactly(size_t n, absl::Time deadline) {
  absl::StatusOr<size_t> have = co_await FillTo(n, deadline);
  if (!have.ok()) co_return have.status();
  if (*have < n) {
    co_return absl::UnavailableError(absl::StrCat("connection to ", stream_.PeerName(),
                                                  " closed after ", *have, " of ", n, " bytes"));
  }
  const absl::string_view out = buffered().substr(0, n);
  Consume(n);
  co_return out;
}

Task<absl::StatusOr<size_t>> BufferedReader::Read(absl::Span<char> buf, absl::Time deadline) {
  if (buf.empty()) co_return size_t{0};
  if (size() == 0) {
    // Nothing buffered: read straight into the caller's buffer (no copy).
    if (eof_) co_return size_t{0};
    absl::StatusOr<size_t> n;
    if (deadline == absl::InfiniteFuture()) {
      n = co_await stream_.Read(buf);
    } else {
      n = co_await stream_.ReadBefore(buf, deadline);
    }
    if (n.ok() && *n == 0) eof_ = true;
    co_return n;
  }
  const size_t n = std::min(buf.size(), size());
  std::memcpy(buf.data(), buf_.data() + start_, n);
  Consume(n);
  co_return n;
}

void BufferedReader::Consume(size_t n) {
  n = std::min(n, size());
  start_ += n;
  scanned_ = scanned_ > n ? scanned_ - n : 0;
  if (start_ == end_) start_ = end_ = 0;
}

std::string BufferedReader::Release() {
  std::string out(buffered());
  start_ = end_ = scanned_ = 0;
  return out;
}

}  // namespace corio
