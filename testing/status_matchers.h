// gmock matchers for absl::Status and absl::StatusOr<T>.
//
//   EXPECT_THAT(DoIt(), corio::testing::IsOk());
//   EXPECT_THAT(Lookup("nope.invalid"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Lookup("x"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"x\"")));
//   EXPECT_THAT(Parse("42"), IsOkAndHolds(42));
//   CORIO_ASSERT_OK_AND_ASSIGN(auto loop, EventLoop::Create());
#ifndef CORIO_TESTING_STATUS_MATCHERS_H_
#define CORIO_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace corio::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOkMatcher, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "which is " << s.ToString();
  return s.ok();
}

MATCHER_P2(StatusIsMatcher, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "which is " << (s.ok() ? std::string("OK") : s.ToString());
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

MATCHER_P(IsOkAndHoldsMatcher, value_matcher,
          "is OK and holds " + ::testing::PrintToString(value_matcher)) {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace internal

inline auto IsOk() { return internal::IsOkMatcher(); }

inline auto StatusIs(absl::StatusCode code) {
  return internal::StatusIsMatcher(code, ::testing::A<std::string>());
}
template <typename M>
auto StatusIs(absl::StatusCode code, M message_matcher) {
  return internal::StatusIsMatcher(code, ::testing::MatcherCast<std::string>(message_matcher));
}

template <typename M>
auto IsOkAndHolds(M value_matcher) {
  return internal::IsOkAndHoldsMatcher(std::move(value_matcher));
}

}  // namespace corio::testing

#define CORIO_TESTING_CONCAT_INNER_(a, b) a##b
#define CORIO_TESTING_CONCAT_(a, b) CORIO_TESTING_CONCAT_INNER_(a, b)
#define CORIO_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                   \
  auto CORIO_TESTING_CONCAT_(corio_statusor_, __LINE__) = (rexpr);               \
  ASSERT_TRUE(CORIO_TESTING_CONCAT_(corio_statusor_, __LINE__).ok())             \
      << CORIO_TESTING_CONCAT_(corio_statusor_, __LINE__).status().ToString();   \
  lhs = *std::move(CORIO_TESTING_CONCAT_(corio_statusor_, __LINE__))
#define CORIO_ASSERT_OK(expr) ASSERT_THAT((expr), ::corio::testing::IsOk())
#define CORIO_EXPECT_OK(expr) EXPECT_THAT((expr), ::corio::testing::IsOk())

#endif  // CORIO_TESTING_STATUS_MATCHERS_H_
