#include "net/http/url.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::http {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

Url MustParse(absl::string_view s) {
  absl::StatusOr<Url> u = ParseUrl(s);
  EXPECT_THAT(u, IsOk()) << s;
  return u.value_or(Url());
}

TEST(UrlTest, ComponentsAndDefaults) {
  Url u = MustParse("http://example.com");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.host_kind, HostKind::kName);
  EXPECT_EQ(u.port, 80);
  EXPECT_FALSE(u.explicit_port);
  EXPECT_EQ(u.path, "/");
  EXPECT_FALSE(u.query.has_value());
  EXPECT_EQ(u.ToString(), "http://example.com/");
  EXPECT_EQ(u.HostPort(), "example.com");

  u = MustParse("HTTPS://User:Pa%73s@EXAMPLE.com:8443/a/../b/./c?x=1&y=%7e#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.userinfo, "User:Pass");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_TRUE(u.explicit_port);
  EXPECT_EQ(u.path, "/b/c");
  EXPECT_EQ(u.query, "x=1&y=~");
  EXPECT_EQ(u.RequestTarget(), "/b/c?x=1&y=~");
  EXPECT_EQ(u.HostPort(), "example.com:8443");
  EXPECT_EQ(u.ToString(), "https://User:Pass@example.com:8443/b/c?x=1&y=~");

  EXPECT_EQ(MustParse("https://a.example:443/").HostPort(), "a.example");  // default port
  EXPECT_EQ(MustParse("http://a.example:/p").port, 80);                    // empty port
  EXPECT_EQ(MustParse("http://h/?").query, "");                            // empty query kept
}

TEST(UrlTest, IpLiterals) {
  Url v4 = MustParse("http://127.0.0.1:8080/x");
  EXPECT_EQ(v4.host_kind, HostKind::kIPv4);
  EXPECT_EQ(v4.host, "127.0.0.1");
  Url v6 = MustParse("http://[0:0:0:0:0:0:0:1]:8080/");
  EXPECT_EQ(v6.host_kind, HostKind::kIPv6);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.HostPort(), "[::1]:8080");
  EXPECT_EQ(MustParse("https://[2001:DB8::1]").ToString(), "https://[2001:db8::1]/");
}

TEST(UrlTest, PercentEncodingIsNormalized) {
  EXPECT_EQ(MustParse("http://h/a%2fb%3Ac%7E").path, "/a%2Fb%3Ac~");
  EXPECT_EQ(MustParse("http://h/a|b^c").path, "/a%7Cb%5Ec");  // must-encode characters
  EXPECT_EQ(MustParse("http://h/caf\xC3\xA9").path, "/caf%C3%A9");
  EXPECT_EQ(MustParse("http://h/%2E%2E/x").path, "/x");  // encoded dot segments too
}

TEST(UrlTest, InternationalizedHostNames) {
  EXPECT_EQ(MustParse("http://B\xC3\xBC"
                      "cher.example/")
                .host,
            "xn--bcher-kva.example");
  EXPECT_EQ(MustParse("http://xn--bcher-kva.example/").host, "xn--bcher-kva.example");
  // Found by url_fuzzer: IDNA maps U+32B7 to "42", which must then be judged as an address.
  EXPECT_THAT(ParseUrl("http://\xE3\x8A\xB7/"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                         HasSubstr("invalid IPv4 address \"42\"")));
  EXPECT_EQ(MustParse("http://\xE3\x8A\xB7.example/").host, "42.example");
  EXPECT_THAT(ParseUrl("http://\xF0\x9F\x92\xA9.example/"),  // emoji: not IDNA2008
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a valid internationalized domain name")));
}

// Issue 10: the port was capped by its length (5 characters), not its value. RFC 3986 allows
// leading zeros.
TEST(UrlTest, PortsWithLeadingZerosAreTheirValue) {
  for (const char* text : {"http://f:00080/", "http://f:000080/",
                           "http://f:00000000000000000000080/c", "http://f:080"}) {
    Url u = MustParse(text);
    EXPECT_EQ(u.port, 80) << text;
    EXPECT_TRUE(u.explicit_port) << text;
    EXPECT_EQ(u.HostPort(), "f") << text;  // the default port, normalized away
  }
  EXPECT_EQ(MustParse("http://f:0000000000000065535/").port, 65535);
  EXPECT_EQ(MustParse("https://f:00080/").ToString(), "https://f:80/");
  EXPECT_THAT(ParseUrl("http://f:0000000000000065536/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(ParseUrl("http://f:00000/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port 0 out of range")));
  EXPECT_THAT(ParseUrl("http://f:99999999999999999999999999/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));
}

// Issue 10: a host whose last label is a number is an IPv4 address to a browser (WHATWG's
// "ends in a number"), which reads 0x7f.1 and 0177.0.0.1 as 127.0.0.1. Accepting them as
// names would let them past an address policy that a resolver using inet_aton then defeats.
// Only the canonical dotted quad is an address; the rest is rejected.
TEST(UrlTest, HostsEndingInANumberMustBeCanonicalDottedQuads) {
  for (const char* text :
       {"http://0x7f.1/", "http://foo.0x4/", "http://0x100.2.3.4/", "http://1.2.3/",
        "http://0177.0.0.1/", "http://0x7f000001/", "http://2130706433/", "http://foo.0X/",
        "http://foo.0x/", "http://a.b.09/", "http://127.0.0.1./", "http://foo.1/",
        "http://example.123/", "http://0x7F.0.0.1/", "http://1.2.3.0x4/"}) {
    EXPECT_THAT(ParseUrl(text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid IPv4 address")))
        << text;
  }
  // A last label that is not a number keeps a name a name.
  for (const char* text :
       {"http://1.2.3.4a/", "http://0x7g.example/", "http://foo.0x4g/", "http://0x7f.1.example/",
        "http://123.example/", "http://1e3/", "http://example.com./"}) {
    EXPECT_EQ(MustParse(text).host_kind, HostKind::kName) << text;
  }
  // Fullwidth digits become ASCII digits under IDNA, and are then judged the same way.
  EXPECT_THAT(ParseUrl("http://foo.\xEF\xBC\x91/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid IPv4 address")));
  EXPECT_EQ(MustParse("http://\xEF\xBC\x91.\xEF\xBC\x92.\xEF\xBC\x93.\xEF\xBC\x94/").host,
            "1.2.3.4");
}

// Issue 10: a browser ends the authority at a backslash in an http(s) URL, so
// http://evil.com\@good.com/ goes to evil.com; corio read good.com. corio rejects a backslash
// before the query rather than silently disagree (see url.h).
TEST(UrlTest, BackslashesBeforeTheQueryAreRejected) {
  EXPECT_THAT(ParseUrl("http://evil.com\\@good.com/"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("backslash in the authority"), HasSubstr("at offset 15"))));
  EXPECT_THAT(ParseUrl("http://good.com\\evil.com/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backslash")));
  EXPECT_THAT(ParseUrl("http://u\\:p@h/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backslash")));
  EXPECT_THAT(ParseUrl("http://h/a\\b"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("backslash in the path"), HasSubstr("at offset 10"))));
  // Location: \\evil.com is protocol-relative to a browser.
  const Url base = MustParse("http://good.com/a/b");
  EXPECT_THAT(ResolveReference(base, "\\\\evil.com/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backslash")));
  EXPECT_THAT(ResolveReference(base, "/\\evil.com/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backslash")));
  // In the query a browser keeps it as a plain character; RFC 3986 wants it encoded.
  EXPECT_EQ(MustParse("http://h/p?a\\b").query, "a%5Cb");
  // The fragment is dropped whatever it holds.
  EXPECT_EQ(MustParse("http://h/p#a\\b").ToString(), "http://h/p");
}

struct BadUrl {
  const char* url;
  const char* why;
};

class BadUrlTest : public ::testing::TestWithParam<BadUrl> {};

TEST_P(BadUrlTest, IsInvalidArgumentSayingWhatAndWhere) {
  EXPECT_THAT(ParseUrl(GetParam().url),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().why)))
      << GetParam().url;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, BadUrlTest,
    ::testing::Values(
        BadUrl{"htp://x", "unsupported scheme \"htp\""}, BadUrl{"ftp://x/", "unsupported scheme"},
        BadUrl{"http://", "empty host at offset 7"},
        BadUrl{"http://[::1", "unterminated IPv6 address at offset 7"},
        BadUrl{"http://[::1]x/", "junk after the IPv6 address"},
        BadUrl{"http://[::g]/", "invalid IPv6 address"},
        BadUrl{"http://[fe80::1%25eth0]/", "zone identifiers"},
        BadUrl{"http://x:70000/", "port 70000 out of range"},
        BadUrl{"http://x:0/", "port 0 out of range"}, BadUrl{"http://x:8o/", "invalid port \"8o\""},
        BadUrl{"http://x:-1/", "invalid port"},
        BadUrl{"http://exa mple.com/", "space at offset 10"},
        BadUrl{"http://x/a b", "space at offset 10"}, BadUrl{" http://x/", "space at offset 0"},
        BadUrl{"http://x/\n", "control character at offset 9"},
        BadUrl{"http://x/\x7f", "control character"}, BadUrl{"example.com/path", "missing scheme"},
        BadUrl{"http:example.com", "expected \"//\""},
        BadUrl{"http://x/%zz", "malformed percent-encoding at offset 9"},
        BadUrl{"http://x/%4", "malformed percent-encoding"},
        BadUrl{"http://256.1.1.1/", "invalid IPv4 address"},
        BadUrl{"http://1.2.3/", "invalid IPv4 address"},
        BadUrl{"http://01.2.3.4/", "invalid IPv4 address"},
        BadUrl{"http://a%41.com/", "percent-encoded host"},
        BadUrl{"http://a<b.com/", "invalid character '<' in host"}, BadUrl{"", "missing scheme"}));

// RFC 3986 §5.4: base "http://a/b/c/d;p?q".
struct Resolution {
  const char* ref;
  const char* want;
};

class ResolveTest : public ::testing::TestWithParam<Resolution> {};

TEST_P(ResolveTest, Rfc3986Examples) {
  const Url base = MustParse("http://a/b/c/d;p?q");
  absl::StatusOr<Url> got = ResolveReference(base, GetParam().ref);
  ASSERT_THAT(got, IsOk()) << GetParam().ref;
  EXPECT_EQ(got->ToString(), GetParam().want) << GetParam().ref;
}

INSTANTIATE_TEST_SUITE_P(
    Normal, ResolveTest,
    ::testing::Values(Resolution{"g", "http://a/b/c/g"}, Resolution{"./g", "http://a/b/c/g"},
                      Resolution{"g/", "http://a/b/c/g/"}, Resolution{"/g", "http://a/g"},
                      Resolution{"//g", "http://g/"}, Resolution{"?y", "http://a/b/c/d;p?y"},
                      Resolution{"g?y", "http://a/b/c/g?y"}, Resolution{"#s", "http://a/b/c/d;p?q"},
                      Resolution{"g#s", "http://a/b/c/g"}, Resolution{"g?y#s", "http://a/b/c/g?y"},
                      Resolution{";x", "http://a/b/c/;x"}, Resolution{"g;x", "http://a/b/c/g;x"},
                      Resolution{"g;x?y#s", "http://a/b/c/g;x?y"},
                      Resolution{"", "http://a/b/c/d;p?q"}, Resolution{".", "http://a/b/c/"},
                      Resolution{"./", "http://a/b/c/"}, Resolution{"..", "http://a/b/"},
                      Resolution{"../", "http://a/b/"}, Resolution{"../g", "http://a/b/g"},
                      Resolution{"../..", "http://a/"}, Resolution{"../../", "http://a/"},
                      Resolution{"../../g", "http://a/g"}));

INSTANTIATE_TEST_SUITE_P(
    Abnormal, ResolveTest,
    ::testing::Values(
        Resolution{"../../../g", "http://a/g"}, Resolution{"../../../../g", "http://a/g"},
        Resolution{"/./g", "http://a/g"}, Resolution{"/../g", "http://a/g"},
        Resolution{"g.", "http://a/b/c/g."}, Resolution{".g", "http://a/b/c/.g"},
        Resolution{"g..", "http://a/b/c/g.."}, Resolution{"..g", "http://a/b/c/..g"},
        Resolution{"./../g", "http://a/b/g"}, Resolution{"./g/.", "http://a/b/c/g/"},
        Resolution{"g/./h", "http://a/b/c/g/h"}, Resolution{"g/../h", "http://a/b/c/h"},
        Resolution{"g;x=1/./y", "http://a/b/c/g;x=1/y"}, Resolution{"g;x=1/../y", "http://a/b/c/y"},
        Resolution{"g?y/./x", "http://a/b/c/g?y/./x"},
        Resolution{"g?y/../x", "http://a/b/c/g?y/../x"}, Resolution{"g#s/./x", "http://a/b/c/g"},
        Resolution{"https://other:8443/z", "https://other:8443/z"}));

TEST(ResolveTest, RedirectsToOtherSchemesAreRefused) {
  const Url base = MustParse("https://a/b");
  EXPECT_THAT(ResolveReference(base, "ftp://x/"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveReference(base, "/a b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ResolveReference(base, "//cdn.example/x")->ToString(), "https://cdn.example/x");
}

}  // namespace
}  // namespace corio::http
