// BearerToken: the fetch service's check of a caller's `authorization` metadata against its
// bearer token (RFC 6750, section 2.1: `Bearer <token>`; the scheme is case-insensitive, as
// every HTTP auth-scheme is, RFC 9110 section 11.1).
//
//   corio::fetch::BearerToken token("s3cret");
//   token.Check("Bearer s3cret");   // OK
//   token.Check("bearer s3cret");   // OK
//   token.Check("Bearer nope");     // UNAUTHENTICATED "invalid bearer token"
//   token.Check(std::nullopt);      // UNAUTHENTICATED "missing authorization: Bearer token"
//
// The token is kept only as its SHA-256 digest, and a presented token is compared by its
// digest: the time taken does not depend on where the tokens differ nor on the expected
// token's length.
// Threading: immutable after construction; Check from any thread at once.
// Errors: Check returns UNAUTHENTICATED naming what is wrong (never the tokens).
#ifndef CORIO_NET_FETCH_BEARER_TOKEN_H_
#define CORIO_NET_FETCH_BEARER_TOKEN_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "net/fetch/sha256.h"

namespace corio::fetch {

class BearerToken {
 public:
  BearerToken() = default;  // no token: every call passes
  // An empty `token` is no token.
  explicit BearerToken(absl::string_view token);

  bool required() const { return required_; }
  // `authorization`: the metadata's value, nullopt when the call has none. Exactly one
  // token follows the scheme (after one or more spaces); trailing whitespace is part of it.
  absl::Status Check(std::optional<absl::string_view> authorization) const;

 private:
  bool required_ = false;
  Sha256Digest digest_{};
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_BEARER_TOKEN_H_
