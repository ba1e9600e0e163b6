#include "net/http/response.h"

#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::http {

// Builds Responses with a given status (Response's fields are the Client's to
// set).
class ResponseTestPeer {
 public:
  static Response WithStatus(int status, std::string reason) {
    Response r;
    r.status_ = status;
    r.reason_ = std::move(reason);
    r.method_ = "GET";
    r.url_ = ParseUrl("http://example.com/x").value();
    return r;
  }
};

namespace {

using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ResponseTest, RaiseForStatusMapsCodes) {
  EXPECT_TRUE(ResponseTestPeer::WithStatus(200, "OK").RaiseForStatus().ok());
  EXPECT_TRUE(ResponseTestPeer::WithStatus(302, "Found").RaiseForStatus().ok());
  EXPECT_THAT(ResponseTestPeer::WithStatus(404, "Not Found").RaiseForStatus(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("http 404 Not Found: GET http://example.com/x")));
  EXPECT_THAT(ResponseTestPeer::WithStatus(401, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(ResponseTestPeer::WithStatus(403, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(ResponseTestPeer::WithStatus(429, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(ResponseTestPeer::WithStatus(418, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ResponseTestPeer::WithStatus(503, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(ResponseTestPeer::WithStatus(504, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(ResponseTestPeer::WithStatus(500, "").RaiseForStatus(),
              StatusIs(absl::StatusCode::kInternal));
}

TEST(ResponseTest, DefaultResponseHasNoBody) {
  Response r;
  EXPECT_TRUE(r.body_done());
  EXPECT_EQ(r.body_bytes(), 0u);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace corio::http
