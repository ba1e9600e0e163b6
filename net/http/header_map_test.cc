#include "net/http/header_map.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::http {
namespace {

using ::testing::ElementsAre;

TEST(HeaderMapTest, CaseInsensitiveLookupKeepsDuplicatesInOrder) {
  HeaderMap m;
  m.Add("Content-Type", "text/plain");
  m.Add("Set-Cookie", "a=1");
  m.Add("set-cookie", "b=2");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.Get("content-type"), "text/plain");
  EXPECT_EQ(m.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_THAT(m.GetAll("Set-Cookie"), ElementsAre("a=1", "b=2"));
  EXPECT_FALSE(m.Has("x-missing"));
  EXPECT_EQ(m[2].name, "set-cookie");
}

TEST(HeaderMapTest, OwnsItsBytesAfterTheSourceIsGone) {
  HeaderMap copy;
  {
    std::string name = "X-Long-Header-Name-Beyond-Small-String";
    std::string value(100, 'v');
    HeaderMap m;
    m.Add(name, value);
    copy = m;
    name.assign(name.size(), '?');
  }
  EXPECT_EQ(copy.Get("x-long-header-name-beyond-small-string"), std::string(100, 'v'));
  HeaderMap moved = std::move(copy);
  int n = 0;
  for (Header h : moved) {
    EXPECT_EQ(h.value.size(), 100u);
    ++n;
  }
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace corio::http
