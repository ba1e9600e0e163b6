#include "net/http/decoding.h"

#include <zlib.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace corio::http {

ContentCoding ParseContentEncoding(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty() || absl::EqualsIgnoreCase(value, "identity")) return ContentCoding::kIdentity;
  if (absl::EqualsIgnoreCase(value, "gzip") || absl::EqualsIgnoreCase(value, "x-gzip")) {
    return ContentCoding::kGzip;
  }
  if (absl::EqualsIgnoreCase(value, "deflate")) return ContentCoding::kDeflate;
  return ContentCoding::kUnsupported;
}

struct ContentDecoder::State {
  z_stream zs{};
};

ContentDecoder::ContentDecoder(ContentCoding coding)
    : coding_(coding), state_(std::make_unique<State>()) {}

ContentDecoder::~ContentDecoder() {
  if (initialized_) inflateEnd(&state_->zs);
}

absl::StatusOr<std::unique_ptr<ContentDecoder>> ContentDecoder::Create(ContentCoding coding) {
  if (coding != ContentCoding::kGzip && coding != ContentCoding::kDeflate) {
    return absl::InvalidArgumentError("ContentDecoder: only gzip and deflate are supported");
  }
  std::unique_ptr<ContentDecoder> d(new ContentDecoder(coding));
  if (coding == ContentCoding::kGzip) {
    absl::Status s = d->Init(16 + MAX_WBITS);
    if (!s.ok()) return s;
  }
  return d;
}

absl::Status ContentDecoder::Init(int window_bits) {
  const int rc = inflateInit2(&state_->zs, window_bits);
  if (rc != Z_OK) {
    return absl::ResourceExhaustedError(absl::StrCat("http: cannot start zlib (", rc, ")"));
  }
  initialized_ = true;
  return absl::OkStatus();
}

namespace {
absl::Status Corrupt(ContentCoding coding, const z_stream& zs) {
  return absl::DataLossError(absl::StrCat("http: corrupt ",
                                          coding == ContentCoding::kGzip ? "gzip" : "deflate",
                                          " body: ", zs.msg != nullptr ? zs.msg : "bad data"));
}
}  // namespace

absl::Status ContentDecoder::Decode(absl::string_view in, absl::Span<char> out, size_t* consumed,
                                    size_t* produced) {
  *consumed = 0;
  *produced = 0;
  if (!initialized_) {
    // deflate: a zlib header is CMF FLG with CM = 8 and (CMF*256 + FLG) % 31 ==
    // 0.
    if (in.empty()) return absl::OkStatus();
    if (!has_sniff_) {
      sniff_ = in[0];
      has_sniff_ = true;
      in.remove_prefix(1);
      *consumed = 1;
      ++total_in_;
      if (in.empty()) return absl::OkStatus();
    }
    const unsigned cmf = static_cast<unsigned char>(sniff_);
    const unsigned flg = static_cast<unsigned char>(in[0]);
    const bool zlib = (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
    absl::Status s = Init(zlib ? MAX_WBITS : -MAX_WBITS);
    if (!s.ok()) return s;
    // Feed the kept byte on its own first.
    z_stream& zs = state_->zs;
    unsigned char first = static_cast<unsigned char>(sniff_);
    zs.next_in = &first;
    zs.avail_in = 1;
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Corrupt(coding_, zs);
    *produced = out.size() - zs.avail_out;
    out.remove_prefix(*produced);
    total_out_ += *produced;
  }
  if (finished_) {
    if (in.empty()) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat("http: ", in.size(), " bytes of trailing data after the ",
                     coding_ == ContentCoding::kGzip ? "gzip" : "deflate", " stream"));
  }
  z_stream& zs = state_->zs;
  size_t made = *produced;
  size_t used = *consumed;
  while (!out.empty()) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), 1u << 30));
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), 1u << 30));
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t in_used = zs.next_in - reinterpret_cast<const Bytef*>(in.data());
    const size_t out_made = zs.next_out - reinterpret_cast<Bytef*>(out.data());
    in.remove_prefix(in_used);
    out.remove_prefix(out_made);
    used += in_used;
    made += out_made;
    total_in_ += in_used;
    total_out_ += out_made;
    if (rc == Z_STREAM_END) {
      if (coding_ == ContentCoding::kGzip && !in.empty()) {
        // Another gzip member follows.
        if (inflateReset(&zs) != Z_OK) return Corrupt(coding_, zs);
        continue;
      }
      finished_ = true;
      if (!in.empty()) {
        *consumed = used;
        *produced = made;
        return absl::DataLossError(
            absl::StrCat("http: ", in.size(), " bytes of trailing data after the ",
                         coding_ == ContentCoding::kGzip ? "gzip" : "deflate", " stream"));
      }
      break;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: needs input or output space
    if (rc != Z_OK) return Corrupt(coding_, zs);
    if (in_used == 0 && out_made == 0) break;
    if (in.empty() && !out.empty()) break;  // everything decoded, no output pending
  }
  *consumed = used;
  *produced = made;
  return absl::OkStatus();
}

absl::Status ContentDecoder::Finish() {
  if (finished_) return absl::OkStatus();
  if (coding_ == ContentCoding::kDeflate && !initialized_ && !has_sniff_) {
    return absl::DataLossError("http: empty deflate body");
  }
  return absl::DataLossError(absl::StrCat(
      "http: truncated ", coding_ == ContentCoding::kGzip ? "gzip" : "deflate", " body (",
      total_in_, " bytes decoded into ", total_out_, " before the stream ended)"));
}

}  // namespace corio::http
