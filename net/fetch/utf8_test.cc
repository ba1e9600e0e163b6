#include "net/fetch/utf8.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace corio::fetch {
namespace {

TEST(Utf8Test, ValidTextIsKept) {
  for (const std::string& s :
       std::vector<std::string>{"", "OK", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80",
                                "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", std::string("a\0b", 3)}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
    EXPECT_EQ(ToValidUtf8(s), s);
  }
}

TEST(Utf8Test, InvalidBytesAreReadAsLatin1) {
  EXPECT_EQ(ToValidUtf8("Gr\xfc\xdf"
                        "e"),
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_EQ(ToValidUtf8("\xff"), "\xc3\xbf");
  EXPECT_EQ(ToValidUtf8("\x80"), "\xc2\x80");
  // A valid sequence next to invalid bytes is kept.
  EXPECT_EQ(ToValidUtf8("\xe9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");
}

TEST(Utf8Test, IllFormedSequencesAreInvalid) {
  for (absl::string_view s : {
           "\xc0\xaf",          // overlong '/'
           "\xc1\xbf",          // overlong
           "\xe0\x80\xaf",      // overlong
           "\xf0\x80\x80\xaf",  // overlong
           "\xed\xa0\x80",      // surrogate U+D800
           "\xed\xbf\xbf",      // surrogate U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",  // no such lead byte
           "\xc3",              // truncated
           "\xe2\x82",          // truncated
           "\xf0\x9f\x98",      // truncated
           "\x80",              // lone continuation byte
           "\xc3\x28",          // lead byte, then not a continuation
       }) {
    EXPECT_FALSE(IsValidUtf8(s)) << s.size();
    const std::string fixed = ToValidUtf8(s);
    EXPECT_TRUE(IsValidUtf8(fixed));
    // Every byte is kept, as a character of its own: nothing is lost or merged.
    size_t chars = 0;
    for (char c : fixed) chars += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    EXPECT_EQ(chars, s.size());
  }
}

TEST(Utf8Test, EveryStringFieldOfAResponse) {
  v1::FetchResponse r;
  r.set_reason(
      "Gr\xfc\xdf"
      "e");
  v1::Header* h = r.add_headers();
  h->set_name("X-\xff");
  h->set_value("\xff");  // bytes: left alone
  r.set_final_url("http://h/\xe9");
  v1::Redirect* rd = r.add_redirects();
  rd->set_url("http://h/\xfe");
  rd->set_location("http://h/\xfd");
  r.mutable_error()->set_message("bad \xc0");
  r.set_body("\xff\xfe");
  MakeStringsValidUtf8(r);
  EXPECT_EQ(r.reason(),
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_EQ(r.headers(0).name(), "X-\xc3\xbf");
  EXPECT_EQ(r.headers(0).value(), "\xff");
  EXPECT_EQ(r.final_url(), "http://h/\xc3\xa9");
  EXPECT_EQ(r.redirects(0).url(), "http://h/\xc3\xbe");
  EXPECT_EQ(r.redirects(0).location(), "http://h/\xc3\xbd");
  EXPECT_EQ(r.error().message(), "bad \xc3\x80");
  EXPECT_EQ(r.body(), "\xff\xfe");
  // And the message now round-trips through protobuf, which checks string fields.
  std::string wire;
  ASSERT_TRUE(r.SerializeToString(&wire));
  v1::FetchResponse back;
  EXPECT_TRUE(back.ParseFromString(wire));
}

}  // namespace
}  // namespace corio::fetch
