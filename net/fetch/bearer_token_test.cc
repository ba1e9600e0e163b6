#include "net/fetch/bearer_token.h"

#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::fetch {
namespace {

using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

TEST(BearerTokenTest, NoTokenLetsEveryCallThrough) {
  BearerToken none;
  EXPECT_FALSE(none.required());
  EXPECT_TRUE(none.Check(std::nullopt).ok());
  EXPECT_TRUE(BearerToken("").Check("Bearer anything").ok());
}

TEST(BearerTokenTest, TheSchemeIsCaseInsensitive) {
  BearerToken t("s3cret");
  EXPECT_TRUE(t.required());
  for (absl::string_view v :
       {"Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR s3cret", "Bearer   s3cret"}) {
    EXPECT_TRUE(t.Check(v).ok()) << v;
  }
}

TEST(BearerTokenTest, RefusesWhatIsNotTheToken) {
  BearerToken t("s3cret");
  EXPECT_THAT(t.Check(std::nullopt),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("missing authorization")));
  for (absl::string_view v : {"Bearer s3cre", "Bearer s3cret ", "Bearer S3CRET", "Bearer ",
                              "Bearer s3cret2", "Bearer \ts3cret"}) {
    EXPECT_THAT(t.Check(v),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("invalid bearer token")))
        << v;
  }
  for (absl::string_view v :
       {"", "s3cret", "Basic s3cret", "Bearers3cret", "Bearer\ts3cret", "Token s3cret"}) {
    EXPECT_THAT(t.Check(v),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not a Bearer token")))
        << v;
  }
}

TEST(BearerTokenTest, MessagesNeverHoldTheTokens) {
  BearerToken t("s3cret");
  absl::Status s = t.Check("Bearer guess-me");
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("guess-me")));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace corio::fetch
