#include "net/fetch/validate.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "net/http/url.h"

namespace corio::fetch {
namespace {

constexpr absl::string_view kMethods[] = {"GET",    "HEAD",    "POST",  "PUT",
                                          "DELETE", "PATCH", "OPTIONS", "TRACE"};

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c)) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) ==
        absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// For messages: the text with control and non-ASCII bytes escaped, at most 64 bytes.
std::string Quote(absl::string_view s) {
  std::string out = absl::CHexEscape(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  return absl::StrCat("\"", out, "\"");
}

}  // namespace

absl::Status ValidateFetchRequest(const v1::FetchRequest& request) {
  if (request.url().empty()) return absl::InvalidArgumentError("url: missing");
  absl::StatusOr<http::Url> url = http::ParseUrl(request.url());
  if (!url.ok()) return url.status();

  if (!request.method().empty()) {
    bool known = false;
    for (absl::string_view m : kMethods) known = known || request.method() == m;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("method ", Quote(request.method()),
                       ": not one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE"));
    }
  }

  for (const v1::Header& h : request.headers()) {
    if (!IsToken(h.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("header name ", Quote(h.name()), ": not an HTTP token"));
    }
    if (absl::EqualsIgnoreCase(h.name(), "host") ||
        absl::EqualsIgnoreCase(h.name(), "content-length") ||
        absl::EqualsIgnoreCase(h.name(), "transfer-encoding")) {
      return absl::InvalidArgumentError(
          absl::StrCat("header ", h.name(), ": set by the fetch service, not by requests"));
    }
    if (absl::string_view(h.value()).find_first_of(absl::string_view("\r\n\0", 3)) !=
        absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("header ", h.name(), ": value holds CR, LF or NUL"));
    }
  }

  if (request.has_timeout()) {
    const int64_t s = request.timeout().seconds();
    const int32_t n = request.timeout().nanos();
    if (n <= -1000000000 || n >= 1000000000 || (s > 0 && n < 0) || (s < 0 && n > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("timeout: malformed duration (", s, " s, ", n, " ns)"));
    }
    if (s < 0 || n < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("timeout: negative (", s, " s, ", n, " ns)"));
    }
  }
  if (request.max_body_bytes() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_body_bytes: negative (", request.max_body_bytes(), ")"));
  }
  if (request.has_max_redirects() && request.max_redirects() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_redirects: negative (", request.max_redirects(), ")"));
  }
  if (!v1::BodyMode_IsValid(request.body_mode())) {
    return absl::InvalidArgumentError(
        absl::StrCat("body_mode: unknown value ", static_cast<int>(request.body_mode())));
  }
  return absl::OkStatus();
}

absl::Status ValidateFetchManyRequest(const v1::FetchManyRequest& request, int max_requests) {
  if (request.requests_size() == 0) return absl::InvalidArgumentError("requests: empty");
  if (request.requests_size() > max_requests) {
    return absl::InvalidArgumentError(absl::StrCat(
        "requests: ", request.requests_size(), " in one call, over the limit of ", max_requests));
  }
  if (request.max_concurrency() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_concurrency: negative (", request.max_concurrency(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace corio::fetch
