// HttpBackend: the fetch service's production FetchBackend — one corio::http::Client per
// loop, with the service's address policy as the client's address filter, so that the
// resolved address of every connection (redirect hops and retries included) is checked.
//
//   corio::fetch::HttpBackendOptions o;
//   o.policy = corio::fetch::AddressPolicy();          // strict: public unicast only
//   o.max_body_bytes = 16 << 20;
//   server_options.backend = corio::fetch::HttpBackendFactory(o);
//
// What a fetch does: the request's method (empty: GET), URL, headers and body; its timeout
// (unset or zero: `default_timeout`; at most `max_timeout`), also bounded by the call's
// deadline; its max_body_bytes (zero: `max_body_bytes`; never above it); its max_redirects
// (unset: the client's max_redirects; zero: none followed, the 3xx is the response; never above
// the client's). The head and then the body are read (streamed: BODY_MODE_SIZE_ONLY counts the
// body without keeping it), so timing.headers and timing.total are separate.
// Errors: the client's (see net/http/client.h), e.g. PERMISSION_DENIED naming the refused
// address, DEADLINE_EXCEEDED, UNAVAILABLE, NOT_FOUND for an unknown host, RESOURCE_EXHAUSTED
// for a body over the limit or too many redirects, DATA_LOSS for a malformed response.
// Threading: each backend (and its Client) lives on its loop; the factory may be called on
// every loop at once.
#ifndef CORIO_NET_FETCH_HTTP_BACKEND_H_
#define CORIO_NET_FETCH_HTTP_BACKEND_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "net/dns/resolver.h"
#include "net/fetch/address_policy.h"
#include "net/fetch/backend.h"
#include "net/http/client_options.h"

namespace corio::fetch {

struct HttpBackendOptions {
  AddressPolicy policy;  // strict by default
  // Options of each loop's Client. Its address_filter is replaced by `policy`; `resolver` by
  // one made from `resolver_options` when those are set.
  http::ClientOptions client;
  std::optional<dns::ResolverOptions> resolver_options;
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Minutes(5);
  uint64_t max_body_bytes = 16 << 20;
};

BackendFactory HttpBackendFactory(HttpBackendOptions options);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_HTTP_BACKEND_H_
