#include "net/http/serializer.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::http {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SerializerTest, GetWithoutBody) {
  std::string out;
  ASSERT_THAT(SerializeRequestHead({"GET", "/a?b=1", {{"Host", "example.com"}, {"Accept", "*/*"}}},
                                   RequestBody::None(), &out),
              IsOk());
  EXPECT_EQ(out, "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
}

TEST(SerializerTest, LengthAndChunkedBodies) {
  std::string out;
  ASSERT_THAT(SerializeRequestHead({"POST", "/p", {{"Host", "h"}}}, RequestBody::Length(5), &out),
              IsOk());
  EXPECT_EQ(out, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  out.clear();
  ASSERT_THAT(SerializeRequestHead({"PUT", "/u", {}}, RequestBody::Chunked(), &out), IsOk());
  AppendChunk("hello world, in hex: b", &out);
  AppendChunk("", &out);  // nothing: an empty chunk would end the body
  AppendChunk("!", &out);
  AppendLastChunk(&out);
  EXPECT_EQ(out,
            "PUT /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "16\r\nhello world, in hex: b\r\n1\r\n!\r\n0\r\n\r\n");
  // A matching framing field from the caller is kept, not doubled.
  out.clear();
  ASSERT_THAT(
      SerializeRequestHead({"POST", "/p", {{"content-length", "3"}}}, RequestBody::Length(3), &out),
      IsOk());
  EXPECT_EQ(out, "POST /p HTTP/1.1\r\ncontent-length: 3\r\n\r\n");
}

TEST(SerializerTest, RefusesInjectionAndContradictions) {
  std::string out;
  const auto code = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(
      SerializeRequestHead({"GET", "/", {{"X", "a\r\nEvil: 1"}}}, RequestBody::None(), &out),
      StatusIs(code, HasSubstr("invalid value for header X")));
  EXPECT_THAT(SerializeRequestHead({"GET", "/", {{"X", std::string("a\0b", 3)}}},
                                   RequestBody::None(), &out),
              StatusIs(code));
  EXPECT_THAT(SerializeRequestHead({"GET", "/", {{"Bad Name", "v"}}}, RequestBody::None(), &out),
              StatusIs(code, HasSubstr("invalid header name")));
  EXPECT_THAT(SerializeRequestHead({"G T", "/", {}}, RequestBody::None(), &out),
              StatusIs(code, HasSubstr("invalid method")));
  EXPECT_THAT(SerializeRequestHead({"GET", "/a b", {}}, RequestBody::None(), &out),
              StatusIs(code, HasSubstr("invalid request target")));
  EXPECT_THAT(SerializeRequestHead({"GET", "/a\r\nX: y", {}}, RequestBody::None(), &out),
              StatusIs(code, HasSubstr("invalid request target")));
  EXPECT_THAT(
      SerializeRequestHead({"POST", "/", {{"Content-Length", "9"}}}, RequestBody::Length(3), &out),
      StatusIs(code, HasSubstr("does not match")));
  EXPECT_THAT(SerializeRequestHead({"POST", "/", {{"Transfer-Encoding", "chunked"}}},
                                   RequestBody::Length(3), &out),
              StatusIs(code, HasSubstr("does not match")));
  EXPECT_TRUE(out.empty());  // nothing written on error
}

}  // namespace
}  // namespace corio::http
