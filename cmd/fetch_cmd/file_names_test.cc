#include "cmd/fetch_cmd/file_names.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::fetch_cmd {
namespace {

void ExpectSafe(const std::string& name) {
  ASSERT_FALSE(name.empty());
  EXPECT_NE(name.front(), '.');
  EXPECT_LE(name.size(), kMaxFileNameBytes);
  EXPECT_EQ(name.find('/'), std::string::npos) << name;
  EXPECT_EQ(name.find(".."), std::string::npos) << name;
  for (char c : name) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')
        << "unsafe character in " << name;
  }
}

TEST(FileNameForTest, ReadableAndIndexed) {
  EXPECT_EQ(FileNameFor(6, "https://example.com/a/b.html?x=1"), "000006_example.com_a_b.html_x_1");
  EXPECT_EQ(FileNameFor(1234567, "http://h/"), "1234567_h");
}

TEST(FileNameForTest, CraftedUrlsStayInside) {
  const char* const kHostile[] = {
      "http://h/../../etc/passwd",
      "http://h/%2e%2e/%2e%2e/x",
      "http://h/a%2Fb%2F..%2F..",
      "http://h/?/etc/passwd",
      "http://h/?file=/absolute/path",
      "../../../x",
      "/etc/passwd",
      "....//....//",
      "http://h/a\\..\\..\\b",
      "",
      ".",
      "..",
  };
  for (const char* url : kHostile) ExpectSafe(FileNameFor(3, url));
  ExpectSafe(FileNameFor(3, std::string("http://h/a\0b", 12)));
  ExpectSafe(FileNameFor(3, "http://h/" + std::string(10000, 'x')));
}

TEST(FileNameForTest, DistinctIndexesGiveDistinctNames) {
  EXPECT_NE(FileNameFor(1, "http://h/same"), FileNameFor(2, "http://h/same"));
}

}  // namespace
}  // namespace corio::fetch_cmd
