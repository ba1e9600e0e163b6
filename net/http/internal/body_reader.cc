#include "net/http/internal/body_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace corio::http::http_internal {

BodyReader::BodyReader(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn,
                       ReadLimits limits, std::string what)
    : pool_(std::move(pool)),
      conn_(std::move(conn)),
      key_(conn_->key()),
      limits_(limits),
      what_(std::move(what)) {}

BodyReader::~BodyReader() { ReleaseConnection(/*reusable=*/false); }

void BodyReader::ReleaseConnection(bool reusable) {
  if (conn_ != nullptr) {
    if (reusable) {
      pool_->PutIdle(std::move(conn_));
    } else {
      pool_->Discard(std::move(conn_));
    }
  }
  if (permit_held_) {
    permit_held_ = false;
    pool_->ReleasePermit(key_);
  }
  pending_.clear();
  pending_head_ = 0;
}

void BodyReader::Abort() {
  if (!done_ && status_.ok()) {
    status_ = absl::CancelledError(absl::StrCat("http ", what_, ": response closed"));
  }
  ReleaseConnection(false);
}

size_t BodyReader::PendingBytes() const {
  size_t n = 0;
  for (size_t i = pending_head_; i < pending_.size(); ++i) n += pending_[i].size();
  return n;
}

bool BodyReader::RawBodyBuffered(size_t max) const {
  if (done_ || !raw_done_ || decoder_ != nullptr || !status_.ok()) return false;
  return PendingBytes() <= max;
}

absl::Status BodyReader::Fail(absl::Status s) {
  if (status_.ok()) status_ = s;
  ReleaseConnection(false);
  return status_;
}

Task<absl::Status> BodyReader::ReadHead(bool* any_bytes) {
  *any_bytes = false;
  ResponseParser& parser = conn_->parser();
  auto on_body = [this](absl::string_view piece) { pending_.push_back(piece); };
  for (;;) {
    absl::string_view in = conn_->buffered();
    if (!in.empty()) {
      *any_bytes = true;
      absl::StatusOr<size_t> used = parser.Parse(in, on_body);
      if (!used.ok()) co_return Fail(used.status());
      conn_->Consume(*used);
      if (parser.head_complete()) {
        const int status = parser.head().status;
        if (status >= 100 && status < 200 && status != 101) {
          // Interim response (100 Continue, 103 Early Hints): the real one
          // follows.
          parser.Reset(/*head_request=*/false);
          continue;
        }
        if (parser.done()) raw_done_ = true;
        co_return absl::OkStatus();
      }
    }
    absl::StatusOr<size_t> n = co_await conn_->Fill(limits_, what_);
    if (!n.ok()) co_return Fail(n.status());
    if (*n == 0) {
      co_return Fail(absl::UnavailableError(
          absl::StrCat("http ", what_, ": connection to ", conn_->peer(), " closed ",
                       *any_bytes ? "in the middle of the response head" : "before any response")));
    }
  }
}

absl::Status BodyReader::StartBody(ContentCoding coding, BodyLimits limits) {
  body_limits_ = limits;
  if (coding == ContentCoding::kGzip || coding == ContentCoding::kDeflate) {
    absl::StatusOr<std::unique_ptr<ContentDecoder>> d = ContentDecoder::Create(coding);
    if (!d.ok()) return Fail(d.status());
    decoder_ = *std::move(d);
  }
  ResponseParser& parser = conn_->parser();
  if (decoder_ == nullptr && parser.framing() == BodyFraming::kContentLength &&
      parser.content_length().value_or(0) > limits.max_body_bytes) {
    return Fail(absl::ResourceExhaustedError(
        absl::StrCat("http ", what_, ": Content-Length ", *parser.content_length(),
                     " exceeds the body limit of ", limits.max_body_bytes, " bytes")));
  }
  if (raw_done_ && pending_head_ == pending_.size() && decoder_ == nullptr) Complete();
  return absl::OkStatus();
}

absl::Status BodyReader::Count(size_t n) {
  decoded_ += n;
  if (decoded_ > body_limits_.max_body_bytes) {
    return Fail(absl::ResourceExhaustedError(absl::StrCat(
        "http ", what_, ": body exceeds the limit of ", body_limits_.max_body_bytes, " bytes")));
  }
  if (decoder_ != nullptr && body_limits_.max_ratio > 0 && decoded_ > body_limits_.ratio_after &&
      static_cast<double>(decoded_) >
          body_limits_.max_ratio * static_cast<double>(decoder_->total_in())) {
    return Fail(absl::ResourceExhaustedError(absl::StrCat(
        "http ", what_, ": decompression ratio over ", body_limits_.max_ratio, " (",
        decoder_->total_in(), " bytes decoded into ", decoded_, "): refusing a compression bomb")));
  }
  return absl::OkStatus();
}

void BodyReader::Complete() {
  done_ = true;
  const bool reusable = conn_ != nullptr && conn_->parser().keep_alive() &&
                        conn_->buffered().empty() && !pool_->closed();
  ReleaseConnection(reusable);
}

Task<absl::Status> BodyReader::MoreRaw() {
  ResponseParser& parser = conn_->parser();
  auto on_body = [this](absl::string_view piece) { pending_.push_back(piece); };
  pending_.clear();
  pending_head_ = 0;
  while (pending_.empty() && !raw_done_) {
    absl::string_view in = conn_->buffered();
    if (!in.empty()) {
      absl::StatusOr<size_t> used = parser.Parse(in, on_body);
      if (!used.ok()) co_return Fail(used.status());
      conn_->Consume(*used);
      if (parser.done()) raw_done_ = true;
      if (*used > 0) continue;
    }
    if (!pending_.empty() || raw_done_) break;
    absl::StatusOr<size_t> n = co_await conn_->Fill(limits_, what_);
    if (!n.ok()) co_return Fail(n.status());
    if (*n == 0) {
      absl::Status s = parser.Finish();
      if (!s.ok()) {
        co_return Fail(absl::UnavailableError(
            absl::StrCat("http ", what_, ": connection to ", conn_->peer(), " closed after ",
                         parser.body_bytes(), " body bytes: ", s.message())));
      }
      raw_done_ = true;
    }
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> BodyReader::Read(absl::Span<char> out) {
  if (!status_.ok()) co_return status_;
  if (done_) co_return size_t{0};
  if (out.empty()) co_return size_t{0};
  for (;;) {
    // Bytes the parser already found.
    while (pending_head_ < pending_.size()) {
      absl::string_view& piece = pending_[pending_head_];
      size_t made = 0;
      if (decoder_ != nullptr) {
        size_t used = 0;
        absl::Status s = decoder_->Decode(piece, out, &used, &made);
        if (!s.ok()) co_return Fail(std::move(s));
        piece.remove_prefix(used);
        if (used == 0 && made == 0) {
          co_return Fail(absl::DataLossError(absl::StrCat("http ", what_, ": decoder stalled")));
        }
      } else {
        made = std::min(piece.size(), out.size());
        std::memcpy(out.data(), piece.data(), made);
        piece.remove_prefix(made);
      }
      if (piece.empty()) ++pending_head_;
      if (made > 0) {
        absl::Status s = Count(made);
        if (!s.ok()) co_return s;
        if (raw_done_ && pending_head_ == pending_.size() && decoder_ == nullptr) Complete();
        co_return made;
      }
    }
    if (raw_done_) {
      if (decoder_ != nullptr && decoder_->total_in() > 0 && !decoder_->finished()) {
        size_t used = 0, made = 0;
        absl::Status s = decoder_->Decode({}, out, &used, &made);
        if (!s.ok()) co_return Fail(std::move(s));
        if (made > 0) {
          absl::Status c = Count(made);
          if (!c.ok()) co_return c;
          co_return made;
        }
        co_return Fail(decoder_->Finish());
      }
      Complete();
      co_return size_t{0};
    }
    // A large identity body: read straight into the caller's buffer.
    ResponseParser& parser = conn_->parser();
    if (decoder_ == nullptr && conn_->buffered().empty() &&
        (parser.framing() == BodyFraming::kContentLength ||
         parser.framing() == BodyFraming::kUntilClose)) {
      size_t want = out.size();
      if (parser.framing() == BodyFraming::kContentLength) {
        want = static_cast<size_t>(
            std::min<uint64_t>(want, *parser.content_length() - parser.body_bytes()));
      }
      absl::StatusOr<size_t> n = co_await conn_->ReadInto(out.subspan(0, want), limits_, what_);
      if (!n.ok()) co_return Fail(n.status());
      if (*n == 0) {
        absl::Status s = parser.Finish();
        if (!s.ok()) {
          co_return Fail(absl::UnavailableError(
              absl::StrCat("http ", what_, ": connection to ", conn_->peer(), " closed after ",
                           parser.body_bytes(), " body bytes: ", s.message())));
        }
        raw_done_ = true;
        continue;
      }
      absl::StatusOr<size_t> used =
          parser.Parse(absl::string_view(out.data(), *n), [](absl::string_view) {});
      if (!used.ok()) co_return Fail(used.status());
      if (parser.done()) raw_done_ = true;
      absl::Status s = Count(*n);
      if (!s.ok()) co_return s;
      if (raw_done_) Complete();
      co_return *n;
    }
    absl::Status s = co_await MoreRaw();
    if (!s.ok()) co_return s;
  }
}

}  // namespace corio::http::http_internal
