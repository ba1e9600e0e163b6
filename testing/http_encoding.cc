// zlib for FakeHttpServer: response bodies compressed at runtime, and gzip bombs.
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/check.h"
#include "testing/http_server_internal.h"

namespace corio::testing::http_internal {
namespace {

int WindowBitsFor(HttpResponse::Encoding e) {
  switch (e) {
    case HttpResponse::Encoding::kGzip:
      return 15 + 16;
    case HttpResponse::Encoding::kDeflate:
      return 15;
    case HttpResponse::Encoding::kRawDeflate:
    case HttpResponse::Encoding::kIdentity:
      break;
  }
  return -15;
}

// Deflates `data` with a fresh stream, appending to `out`, ending with `flush` (Z_FINISH, or
// Z_FULL_FLUSH to leave the stream open and byte-aligned with no reference to earlier data).
void Deflate(int window_bits, absl::string_view data, int flush, std::string& out) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  CORIO_CHECK(
      deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  const size_t start = out.size();
  out.resize(start + deflateBound(&z, static_cast<uLong>(data.size())) + 16);
  z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  z.avail_out = static_cast<uInt>(out.size() - start);
  const int rc = deflate(&z, flush);
  CORIO_CHECK(flush == Z_FINISH ? rc == Z_STREAM_END : rc == Z_OK);
  CORIO_CHECK(z.avail_in == 0);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
}

}  // namespace

std::string Compress(HttpResponse::Encoding encoding, absl::string_view data) {
  std::string out;
  Deflate(WindowBitsFor(encoding), data, Z_FINISH, out);
  return out;
}

std::string BuildGzipBomb(uint64_t decoded_bytes) {
  constexpr size_t kUnit = 1 << 20;
  const std::string zeros(kUnit, '\0');
  std::string unit;
  Deflate(-15, zeros, Z_FULL_FLUSH, unit);
  // RFC 1952 header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  const uint64_t units = decoded_bytes / kUnit;
  out.reserve(out.size() + unit.size() * units + 64);
  for (uint64_t i = 0; i < units; ++i) out += unit;
  const size_t rest = static_cast<size_t>(decoded_bytes % kUnit);
  Deflate(-15, absl::string_view(zeros.data(), rest), Z_FINISH,
          out);  // ends the stream
  // Trailer: CRC-32 of the decoded data and its length mod 2^32, little-endian.
  const uLong unit_crc = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), kUnit);
  uLong crc = 0;
  for (uint64_t i = 0; i < units; ++i) crc = crc32_combine(crc, unit_crc, kUnit);
  crc = crc32_combine(crc, crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), rest), rest);
  const uint32_t size = static_cast<uint32_t>(decoded_bytes);
  for (uint32_t v : {static_cast<uint32_t>(crc), size}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  return out;
}

}  // namespace corio::testing::http_internal
