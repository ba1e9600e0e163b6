// Checks of fetch service requests, made before anything is fetched, so that a malformed
// request is INVALID_ARGUMENT (naming the field and what is wrong) rather than a failed fetch.
//
//   absl::Status s = corio::fetch::ValidateFetchRequest(request);
//   // INVALID_ARGUMENT: "method \"FETCH\": not one of GET, HEAD, POST, PUT, DELETE, ..."
//
// What is checked: the URL parses as an absolute http/https URL (corio::http::ParseUrl);
// the method is one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE (case-sensitive,
// as in HTTP; empty means GET); header names are HTTP tokens, values hold no CR, LF or NUL,
// and Host, Content-Length and Transfer-Encoding (which the server sets) are absent; the
// timeout is a valid, non-negative google.protobuf.Duration; max_body_bytes and
// max_redirects are not negative; body_mode is a known value.
// Threading: pure functions.
#ifndef CORIO_NET_FETCH_VALIDATE_H_
#define CORIO_NET_FETCH_VALIDATE_H_

#include "absl/status/status.h"
#include "net/fetch/fetch.pb.h"

namespace corio::fetch {

absl::Status ValidateFetchRequest(const v1::FetchRequest& request);

// The call-level checks of FetchMany (its items are checked one by one, each failing alone):
// at least one request, at most `max_requests`, max_concurrency not negative.
absl::Status ValidateFetchManyRequest(const v1::FetchManyRequest& request, int max_requests);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_VALIDATE_H_
