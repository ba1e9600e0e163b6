#include "cmd/fetch_cmd/format.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::fetch_cmd {
namespace {

using ::testing::HasSubstr;

std::string Json(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Json("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(Json(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(Json(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonStringTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Json("B\xc3\xbc"
                 "cher \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"B\xc3\xbc"
            "cher \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Json("\xff"), R"("\ufffd")");
  EXPECT_EQ(Json("\xc3"), R"("\ufffd")");              // truncated sequence
  EXPECT_EQ(Json("\xc0\xaf"), R"("\ufffd\ufffd")");    // overlong
  EXPECT_EQ(Json("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
}

TEST(JsonLineTest, SuccessHasNullErrorAndExactFields) {
  FetchResult r;
  r.url = "http://a/x";
  r.status = 200;
  r.bytes = 1024;
  r.elapsed = absl::Microseconds(1234);
  r.final_url = "http://a/y";
  r.redirects = 1;
  EXPECT_EQ(JsonLine(r, false),
            "{\"url\":\"http://a/x\",\"status\":200,\"bytes\":1024,\"elapsed_ms\":1.234,"
            "\"final_url\":\"http://a/y\",\"redirects\":1,\"error\":null,\"error_code\":null}\n");
}

TEST(JsonLineTest, FailureHasNullStatusAndBothErrorFields) {
  FetchResult r;
  r.url = "htp://x";
  r.error = absl::InvalidArgumentError("url \"htp://x\": unsupported scheme");
  EXPECT_EQ(JsonLine(r, false),
            "{\"url\":\"htp://x\",\"status\":null,\"bytes\":0,\"elapsed_ms\":0.000,"
            "\"final_url\":null,\"redirects\":0,"
            "\"error\":\"url \\\"htp://x\\\": unsupported scheme\","
            "\"error_code\":\"INVALID_ARGUMENT\"}\n");
}

TEST(JsonLineTest, FileFieldOnlyWhenAsked) {
  FetchResult r;
  r.url = "http://a/";
  r.status = 404;
  r.final_url = "http://a/";
  r.file = "000000_a";
  EXPECT_THAT(JsonLine(r, true), HasSubstr(",\"file\":\"000000_a\"}"));
  EXPECT_THAT(JsonLine(r, false), ::testing::Not(HasSubstr("file")));
}

TEST(HumanBytesTest, Units) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536 * 1024), "1.5 MiB");
}

TEST(SummaryTest, LinesAndTotals) {
  FetchResult ok;
  ok.url = "http://a/";
  ok.status = 200;
  ok.bytes = 2048;
  ok.elapsed = absl::Milliseconds(12);
  EXPECT_THAT(SummaryLine(ok), HasSubstr("200"));
  EXPECT_THAT(SummaryLine(ok), HasSubstr("2.0 KiB"));
  EXPECT_THAT(SummaryLine(ok), HasSubstr("http://a/"));
  FetchResult bad;
  bad.url = "http://b/\nforged line";
  bad.error = absl::DeadlineExceededError("timed out");
  const std::string line = SummaryLine(bad);
  EXPECT_THAT(line, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, whatever the URL holds";

  Totals t;
  t.Add(ok);
  t.Add(bad);
  t.Add(bad);
  EXPECT_EQ(TotalLine(t, absl::Seconds(2), false),
            "3 URLs: 1 ok (1 2xx), 2 failed (2 DEADLINE_EXCEEDED), 2.0 KiB in 2.00 s, 2 req/s\n");
  EXPECT_THAT(TotalLine(t, absl::Seconds(2), true), ::testing::StartsWith("interrupted after 3"));
}

// The classes add up to the ok count even for statuses outside 1xx-5xx ("HTTP/1.1 999 Weird"
// is a response): the audit saw "7 ok (5 2xx, 1 3xx)".
TEST(SummaryTest, StatusClassesAddUpToOk) {
  Totals t;
  FetchResult r;
  r.status = 200;
  t.Add(r);
  r.status = 999;
  t.Add(r);
  EXPECT_THAT(TotalLine(t, absl::Seconds(1), false), HasSubstr("2 ok (1 2xx, 1 other)"));
}

TEST(SummaryTest, TotalsNameTheServersThatAnswered) {
  Totals t;
  FetchResult r;
  r.status = 200;
  r.server = "127.0.0.2:50051";
  t.Add(r);
  t.Add(r);
  r.server = "127.0.0.1:50051";
  t.Add(r);
  EXPECT_THAT(TotalLine(t, absl::Seconds(1), false),
              HasSubstr("via 2 servers (127.0.0.1:50051: 1, 127.0.0.2:50051: 2)"));
}

}  // namespace
}  // namespace corio::fetch_cmd
