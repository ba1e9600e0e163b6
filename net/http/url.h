// Url: absolute http/https URLs, parsed strictly and normalized (RFC 3986), with relative
// reference resolution for Location headers (RFC 3986 §5.2).
//
//   CORIO_ASSIGN_OR_RETURN(corio::http::Url url,
//                          corio::http::ParseUrl("https://Bücher.example/a/../b?q=1#top"));
//   url.host;             // "xn--bcher-kva.example" (IDNA, lowercase)
//   url.port;             // 443
//   url.RequestTarget();  // "/b?q=1"   (the fragment is dropped)
//   url.ToString();       // "https://xn--bcher-kva.example/b?q=1"
//   CORIO_ASSIGN_OR_RETURN(corio::http::Url next, corio::http::ResolveReference(url, "../c"));
//
// Normalization: scheme and host lowercased; internationalized host names converted to ASCII
// with libidn2 (UTS #46, non-transitional, like browsers); percent-encodings validated, hex
// digits uppercased, unreserved characters decoded; characters that must be encoded in a path
// or query (e.g. `|`, `^`, non-ASCII bytes) percent-encoded; dot segments removed; empty path
// becomes "/"; default ports (80, 443) known; the fragment dropped.
//
// Ports are read by value: leading zeros are allowed ("http://h:00080/" is port 80).
//
// Where browsers (WHATWG URL) and RFC 3986 disagree, corio does not silently pick one side:
// - Backslash: browsers read "\" as "/" in an http(s) URL before the query, so
//   "http://evil.com\@good.com/" is evil.com to a browser and good.com by RFC 3986. corio
//   rejects a backslash in the authority or the path (in a Location header too). In the query
//   it is percent-encoded (%5C), in the fragment dropped with the fragment.
// - Numeric hosts: a host whose last label is a number (decimal digits, or "0x" and hex
//   digits) is an IPv4 address to a browser, which also reads hex, octal and fewer than four
//   parts ("0x7f.1", "0177.0.0.1", "2130706433" are all 127.0.0.1, as inet_aton reads them).
//   corio accepts only the canonical dotted quad (four decimal parts 0-255, no leading zeros)
//   and rejects the rest, so such a host never passes an address policy as a name.
//
// Errors: INVALID_ARGUMENT naming what is wrong and where, e.g.
// `url "http://[::1": unterminated IPv6 address at offset 7`. Rejected: schemes other than
// http/https, missing "//", empty hosts, spaces and control characters, backslashes before the
// query, malformed percent-encodings, ports outside 1..65535, malformed or non-canonical IPv4
// literals (see above), malformed IPv6 literals, IPv6 zone IDs, host names IDNA cannot convert.
// Threading: values; free functions are thread-safe.
// Ownership: a Url owns its strings; nothing refers to the parsed text.
#ifndef CORIO_NET_HTTP_URL_H_
#define CORIO_NET_HTTP_URL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corio::http {

enum class HostKind { kName, kIPv4, kIPv6 };

struct Url {
  std::string scheme;    // "http" or "https"
  std::string userinfo;  // percent-encoded, normalized; empty if none
  std::string host;      // lowercase ASCII name, dotted IPv4, or IPv6 (no brackets)
  HostKind host_kind = HostKind::kName;
  uint16_t port = 0;  // the effective port
  bool explicit_port = false;
  std::string path = "/";            // normalized, starts with "/"
  std::optional<std::string> query;  // without the "?"

  bool is_https() const { return scheme == "https"; }
  uint16_t default_port() const { return is_https() ? 443 : 80; }
  // host, "[v6]" for IPv6, and ":port" when not the default: the Host header's value.
  std::string HostPort() const;
  // path and "?query": what goes in the request line.
  std::string RequestTarget() const;
  // The normalized URL (default port omitted).
  std::string ToString() const;
};

absl::StatusOr<Url> ParseUrl(absl::string_view text);

// Resolves `reference` (absolute or relative, as in a Location header) against `base`.
// The result must be an http/https URL.
absl::StatusOr<Url> ResolveReference(const Url& base, absl::string_view reference);

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_URL_H_
