#include "net/http/decoding.h"

#include <zlib.h>

#include <string>

#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::http {
namespace {

using ::corio::testing::StatusIs;

// window_bits: 16+15 gzip, 15 zlib, -15 raw deflate.
std::string Compress(const std::string& in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Decodes `in` fed `step` bytes at a time into an `out_size` buffer.
absl::StatusOr<std::string> DecodeAll(ContentCoding coding, const std::string& in, size_t step,
                                      size_t out_size) {
  auto d = ContentDecoder::Create(coding);
  if (!d.ok()) return d.status();
  std::string result, buf(out_size, '\0');
  size_t pos = 0;
  for (;;) {
    absl::string_view piece = absl::string_view(in).substr(pos, step);
    size_t used = 0, made = 0;
    absl::Status s = (*d)->Decode(piece, absl::MakeSpan(buf), &used, &made);
    if (!s.ok()) return s;
    result.append(buf.data(), made);
    pos += used;
    if (pos >= in.size() && made == 0) break;
  }
  absl::Status f = (*d)->Finish();
  if (!f.ok()) return f;
  return result;
}

std::string Text() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "line " + std::to_string(i) + " of some text\n";
  return s;
}

TEST(DecodingTest, ParsesContentEncoding) {
  EXPECT_EQ(ParseContentEncoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(ParseContentEncoding(" X-GZIP "), ContentCoding::kGzip);
  EXPECT_EQ(ParseContentEncoding("deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(ParseContentEncoding(""), ContentCoding::kIdentity);
  EXPECT_EQ(ParseContentEncoding("identity"), ContentCoding::kIdentity);
  EXPECT_EQ(ParseContentEncoding("br"), ContentCoding::kUnsupported);
  EXPECT_EQ(ParseContentEncoding("gzip, gzip"), ContentCoding::kUnsupported);
}

TEST(DecodingTest, GzipZlibAndRawDeflateAtEverySplit) {
  const std::string text = Text();
  struct Case {
    ContentCoding coding;
    int bits;
  } cases[] = {{ContentCoding::kGzip, 16 + 15},
               {ContentCoding::kDeflate, 15},
               {ContentCoding::kDeflate, -15}};
  for (const Case& c : cases) {
    const std::string z = Compress(text, c.bits);
    for (size_t step : {size_t{1}, size_t{2}, size_t{7}, size_t{4096}, z.size()}) {
      for (size_t out : {size_t{1}, size_t{100}, size_t{65536}}) {
        absl::StatusOr<std::string> got = DecodeAll(c.coding, z, step, out);
        ASSERT_TRUE(got.ok()) << got.status() << " bits=" << c.bits << " step=" << step;
        EXPECT_EQ(*got, text);
      }
    }
  }
}

TEST(DecodingTest, ConcatenatedGzipMembers) {
  const std::string z = Compress("hello ", 31) + Compress("world", 31);
  absl::StatusOr<std::string> got = DecodeAll(ContentCoding::kGzip, z, z.size(), 64);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello world");
}

TEST(DecodingTest, CorruptIsDataLoss) {
  std::string z = Compress(Text(), 31);
  z[z.size() / 2] ^= 0x55;
  z[z.size() / 2 + 1] ^= 0x55;
  EXPECT_THAT(DecodeAll(ContentCoding::kGzip, z, 512, 4096).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeAll(ContentCoding::kGzip, "not gzip at all", 512, 4096).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(DecodingTest, TruncatedIsDataLoss) {
  const std::string z = Compress(Text(), 31);
  EXPECT_THAT(DecodeAll(ContentCoding::kGzip, z.substr(0, z.size() - 10), 512, 4096).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  const std::string d = Compress(Text(), -15);
  EXPECT_THAT(DecodeAll(ContentCoding::kDeflate, d.substr(0, d.size() / 2), 512, 4096).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(DecodingTest, TrailingGarbageAfterDeflateIsDataLoss) {
  const std::string z = Compress("abc", 15) + "junk";
  EXPECT_THAT(DecodeAll(ContentCoding::kDeflate, z, z.size(), 64).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(DecodingTest, IdentityIsNotADecoder) {
  EXPECT_THAT(ContentDecoder::Create(ContentCoding::kIdentity).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace corio::http
