// A downstream user's test of corio's pure HTTP layer: the URL parser and the response parser,
// each a public target of @corio//net/http, without the rest of corio.
#include <string>

#include "gtest/gtest.h"
#include "net/http/parser.h"
#include "net/http/url.h"

TEST(ConsumerTest, ParsesAUrl) {
  absl::StatusOr<corio::http::Url> url = corio::http::ParseUrl("HTTP://Example.COM:00080/a/../b?q");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->ToString(), "http://example.com/b?q");
  EXPECT_FALSE(corio::http::ParseUrl("http://evil.com\\@good.com/").ok());
}

TEST(ConsumerTest, ParsesAResponse) {
  corio::http::ResponseParser parser;
  parser.Reset();
  std::string body;
  absl::StatusOr<size_t> used =
      parser.Parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                   [&](absl::string_view b) { body.append(b.data(), b.size()); });
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_TRUE(parser.done());
  EXPECT_EQ(parser.head().status, 200);
  EXPECT_EQ(body, "hi");
}
