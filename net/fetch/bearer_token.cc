#include "net/fetch/bearer_token.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace corio::fetch {

BearerToken::BearerToken(absl::string_view token)
    : required_(!token.empty()), digest_(Sha256(token)) {}

absl::Status BearerToken::Check(std::optional<absl::string_view> authorization) const {
  if (!required_) return absl::OkStatus();
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError("missing authorization: Bearer token");
  }
  absl::string_view value = *authorization;
  const size_t space = value.find(' ');
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(value.substr(0, space), "Bearer")) {
    return absl::UnauthenticatedError("authorization: not a Bearer token");
  }
  absl::string_view presented = value.substr(space);
  while (absl::ConsumePrefix(&presented, " ")) {
  }
  if (!DigestsEqual(Sha256(presented), digest_)) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

}  // namespace corio::fetch
