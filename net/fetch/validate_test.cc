#include "net/fetch/validate.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fetch/proto_time.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

v1::FetchRequest Req(const std::string& url) {
  v1::FetchRequest r;
  r.set_url(url);
  return r;
}

TEST(ValidateTest, AcceptsAWellFormedRequest) {
  v1::FetchRequest r = Req("https://example.com/a?b=c");
  r.set_method("POST");
  auto* h = r.add_headers();
  h->set_name("Content-Type");
  h->set_value("application/json; charset=\"utf-8\", x:y");
  r.set_body("{}");
  *r.mutable_timeout() = ToProtoDuration(absl::Seconds(3));
  r.set_max_body_bytes(1024);
  r.set_max_redirects(0);
  r.set_body_mode(v1::BODY_MODE_SIZE_ONLY);
  EXPECT_THAT(ValidateFetchRequest(r), IsOk());
  EXPECT_THAT(ValidateFetchRequest(Req("http://127.0.0.1:8080/")), IsOk());  // policy is later
}

TEST(ValidateTest, RefusesMalformedUrls) {
  for (const char* url : {"", "htp://x", "http://", "http://[::1", "not a url",
                          "http://x:99999/", "ftp://example.com/", "http://a b/"}) {
    SCOPED_TRACE(url);
    EXPECT_THAT(ValidateFetchRequest(Req(url)), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(ValidateFetchRequest(Req("")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("url")));
}

TEST(ValidateTest, MethodsAreKnownAndCaseSensitive) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}) {
    v1::FetchRequest r = Req("http://example.com/");
    r.set_method(m);
    EXPECT_THAT(ValidateFetchRequest(r), IsOk()) << m;
  }
  for (const char* m : {"get", "FETCH", "CONNECT", "GET ", "G\nET", "PROPFIND"}) {
    v1::FetchRequest r = Req("http://example.com/");
    r.set_method(m);
    EXPECT_THAT(ValidateFetchRequest(r),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("method")))
        << m;
  }
}

TEST(ValidateTest, RefusesHeaderInjectionAndFramingHeaders) {
  struct Case {
    std::string name, value;
  };
  for (const Case& c : std::vector<Case>{{"", "x"},
                                         {"Bad Name", "x"},
                                         {"X:Y", "x"},
                                         {"X-A", "a\r\nInjected: 1"},
                                         {"X-A", "a\nb"},
                                         {"X-A", std::string("a\0b", 3)},
                                         {"Host", "internal"},
                                         {"content-length", "5"},
                                         {"Transfer-Encoding", "chunked"}}) {
    v1::FetchRequest r = Req("http://example.com/");
    auto* h = r.add_headers();
    h->set_name(c.name);
    h->set_value(c.value);
    EXPECT_THAT(ValidateFetchRequest(r), StatusIs(absl::StatusCode::kInvalidArgument))
        << c.name;
  }
}

TEST(ValidateTest, RefusesNegativeAndMalformedLimits) {
  v1::FetchRequest r = Req("http://example.com/");
  r.mutable_timeout()->set_seconds(-1);
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout: negative")));
  r.mutable_timeout()->set_seconds(0);
  r.mutable_timeout()->set_nanos(-5);
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout: negative")));
  r.mutable_timeout()->set_seconds(1);
  r.mutable_timeout()->set_nanos(-5);
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed")));
  r.mutable_timeout()->set_seconds(0);
  r.mutable_timeout()->set_nanos(1000000000);
  EXPECT_THAT(ValidateFetchRequest(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.clear_timeout();
  r.set_max_body_bytes(-1);
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_body_bytes")));
  r.set_max_body_bytes(0);
  r.set_max_redirects(-1);
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_redirects")));
  r.clear_max_redirects();
  r.set_body_mode(static_cast<v1::BodyMode>(42));  // an open enum: unknown values arrive
  EXPECT_THAT(ValidateFetchRequest(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("body_mode")));
}

TEST(ValidateTest, FetchManyCallChecks) {
  v1::FetchManyRequest m;
  EXPECT_THAT(ValidateFetchManyRequest(m, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  for (int i = 0; i < 11; ++i) *m.add_requests() = Req("http://example.com/");
  EXPECT_THAT(ValidateFetchManyRequest(m, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("over the limit of 10")));
  EXPECT_THAT(ValidateFetchManyRequest(m, 11), IsOk());
  m.set_max_concurrency(-1);
  EXPECT_THAT(ValidateFetchManyRequest(m, 11),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_concurrency")));
  // A malformed item is not a call error: it fails alone.
  m.set_max_concurrency(0);
  m.mutable_requests(3)->set_url("htp://x");
  EXPECT_THAT(ValidateFetchManyRequest(m, 11), IsOk());
}

}  // namespace
}  // namespace corio::fetch
