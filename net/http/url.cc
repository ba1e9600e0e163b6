#include "net/http/url.h"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/http/chars.h"

namespace corio::http {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrCat("url \"", absl::CHexEscape(text), "\": ", what, " at offset ", offset));
}

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool IsSubDelim(unsigned char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}
void AppendEscaped(std::string* out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

// Normalizes percent-encoding in a path, query or userinfo component. `allowed` decides which
// raw characters stay as they are; others (and non-ASCII bytes) are percent-encoded.
absl::StatusOr<std::string> NormalizeComponent(absl::string_view text, absl::string_view part,
                                               size_t offset, bool (*allowed)(unsigned char)) {
  std::string out;
  out.reserve(part.size());
  for (size_t i = 0; i < part.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(part[i]);
    if (c == '%') {
      const auto digit = [&](size_t at) {
        return at < part.size() ? HexDigitValue(static_cast<unsigned char>(part[at])) : -1;
      };
      const int hi = digit(i + 1);
      const int lo = digit(i + 2);
      if (hi < 0 || lo < 0) return Bad(text, "malformed percent-encoding", offset + i);
      const unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (IsUnreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        AppendEscaped(&out, decoded);
      }
      i += 2;
    } else if (allowed(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      AppendEscaped(&out, c);
    }
  }
  return out;
}

bool PathChar(unsigned char c) {  // pchar / "/"
  return IsUnreserved(c) || IsSubDelim(c) || c == ':' || c == '@' || c == '/';
}
bool QueryChar(unsigned char c) { return PathChar(c) || c == '?'; }
bool UserinfoChar(unsigned char c) { return IsUnreserved(c) || IsSubDelim(c) || c == ':'; }

// RFC 3986 §5.2.4.
std::string RemoveDotSegments(absl::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (absl::StartsWith(in, "../")) {
      in.remove_prefix(3);
    } else if (absl::StartsWith(in, "./")) {
      in.remove_prefix(2);
    } else if (absl::StartsWith(in, "/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (absl::StartsWith(in, "/../") || in == "/..") {
      in = in == "/.." ? absl::string_view("/") : in.substr(3);
      const size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const size_t next = in.find('/', in[0] == '/' ? 1 : 0);
      const absl::string_view segment = in.substr(0, next);
      out.append(segment.data(), segment.size());
      in.remove_prefix(segment.size());
    }
  }
  return out;
}

// WHATWG URL's "ends in a number": the last label (a trailing dot ignored) is decimal digits,
// or "0x"/"0X" and hex digits (none at all included).
bool EndsInANumber(absl::string_view host) {
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);
  const size_t dot = host.rfind('.');
  const absl::string_view last = dot == absl::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), absl::ascii_isdigit)) return true;
  return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
         std::all_of(last.begin() + 2, last.end(), absl::ascii_isxdigit);
}

absl::Status ParseHost(absl::string_view text, absl::string_view host, size_t offset, Url* url) {
  if (host.empty()) return Bad(text, "empty host", offset);
  if (host.front() == '[') {
    if (host.back() != ']') return Bad(text, "unterminated IPv6 address", offset);
    const absl::string_view inner = host.substr(1, host.size() - 2);
    if (inner.find('%') != absl::string_view::npos) {
      return Bad(text, "IPv6 zone identifiers are not supported", offset);
    }
    in6_addr addr;
    const std::string s(inner);
    if (inet_pton(AF_INET6, s.c_str(), &addr) != 1)
      return Bad(text, "invalid IPv6 address", offset);
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &addr, buf, sizeof buf);
    url->host = buf;
    url->host_kind = HostKind::kIPv6;
    return absl::OkStatus();
  }
  if (host.find('%') != absl::string_view::npos) {
    return Bad(text, "percent-encoded host names are not supported", offset + host.find('%'));
  }
  // An internationalized name becomes ASCII first: the classification below applies to what
  // IDNA made of it (U+32B7 "CIRCLED NUMBER FORTY TWO" maps to "42", which is no name).
  std::string ascii_host;
  bool ascii = true;
  for (size_t i = 0; i < host.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(host[i]);
    if (c >= 0x80) {
      ascii = false;
    } else if (!IsUnreserved(c) && !IsSubDelim(c)) {
      return Bad(
          text,
          absl::StrCat("invalid character '", absl::CHexEscape(host.substr(i, 1)), "' in host"),
          offset + i);
    }
  }
  if (ascii) {
    ascii_host = absl::AsciiStrToLower(host);
  } else {
    char* out = nullptr;
    const std::string in(host);
    const int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
      return Bad(text,
                 absl::StrCat("host is not a valid internationalized domain name (",
                              idn2_strerror(rc), ")"),
                 offset);
    }
    ascii_host = absl::AsciiStrToLower(out);
    idn2_free(out);
    for (char c : ascii_host) {
      if (!IsUnreserved(static_cast<unsigned char>(c))) {
        return Bad(text, "internationalized host maps to characters not allowed in a host", offset);
      }
    }
  }
  if (ascii_host.empty()) return Bad(text, "empty host", offset);
  // A host ending in a number is an IPv4 address, as browsers see it (WHATWG URL's "ends in a
  // number"), and only the canonical dotted quad is accepted: what inet_aton or a browser
  // would read as an address (0x7f.1, 0177.0.0.1, 2130706433: all 127.0.0.1) never passes
  // as a name.
  if (EndsInANumber(ascii_host)) {
    std::vector<absl::string_view> parts = absl::StrSplit(ascii_host, '.');
    bool ok = parts.size() == 4;
    for (absl::string_view p : parts) {
      int v;
      ok = ok && !p.empty() && p.size() <= 3 && !(p.size() > 1 && p[0] == '0') &&
           absl::SimpleAtoi(p, &v) && v <= 255;
    }
    if (!ok) return Bad(text, absl::StrCat("invalid IPv4 address \"", ascii_host, "\""), offset);
    url->host = std::move(ascii_host);
    url->host_kind = HostKind::kIPv4;
    return absl::OkStatus();
  }
  url->host = std::move(ascii_host);
  if (url->host.size() > 253) return Bad(text, "host name longer than 253 characters", offset);
  url->host_kind = HostKind::kName;
  return absl::OkStatus();
}

}  // namespace

std::string Url::HostPort() const {
  std::string out = host_kind == HostKind::kIPv6 ? absl::StrCat("[", host, "]") : host;
  if (port != default_port()) absl::StrAppend(&out, ":", port);
  return out;
}

std::string Url::RequestTarget() const {
  return query.has_value() ? absl::StrCat(path, "?", *query) : path;
}

std::string Url::ToString() const {
  return absl::StrCat(scheme, "://", userinfo.empty() ? "" : absl::StrCat(userinfo, "@"),
                      HostPort(), RequestTarget());
}

absl::StatusOr<Url> ParseUrl(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ') return Bad(text, "space", i);
    if (c < 0x20 || c == 0x7F) return Bad(text, "control character", i);
  }
  Url url;
  // scheme ":"
  size_t i = 0;
  while (i < text.size() &&
         (absl::ascii_isalnum(text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.')) {
    ++i;
  }
  if (i == 0 || i == text.size() || text[i] != ':' || !absl::ascii_isalpha(text[0])) {
    return Bad(text, "missing scheme (expected http:// or https://)", 0);
  }
  url.scheme = absl::AsciiStrToLower(text.substr(0, i));
  if (url.scheme != "http" && url.scheme != "https") {
    return Bad(text, absl::StrCat("unsupported scheme \"", url.scheme, "\" (only http and https)"),
               0);
  }
  if (text.substr(i + 1, 2) != "//") return Bad(text, "expected \"//\" after the scheme", i + 1);
  const size_t auth_start = i + 3;
  size_t auth_end = text.find_first_of("/?#", auth_start);
  if (auth_end == absl::string_view::npos) auth_end = text.size();
  // Browsers read "\\" as "/" in http(s) URLs up to the query: "http://evil.com\\@good.com/"
  // is evil.com to them, and good.com by RFC 3986. Refuse to pick one.
  const size_t before_query = std::min(text.find_first_of("?#", auth_start), text.size());
  if (const size_t bs = text.substr(0, before_query).find('\\', auth_start);
      bs != absl::string_view::npos) {
    return Bad(text,
               absl::StrCat("backslash in the ", bs < auth_end ? "authority" : "path",
                            " (a browser would read it as \"/\")"),
               bs);
  }
  absl::string_view authority = text.substr(auth_start, auth_end - auth_start);

  // userinfo "@"
  size_t host_start = auth_start;
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    absl::StatusOr<std::string> ui =
        NormalizeComponent(text, authority.substr(0, at), auth_start, &UserinfoChar);
    if (!ui.ok()) return ui.status();
    url.userinfo = *std::move(ui);
    authority.remove_prefix(at + 1);
    host_start += at + 1;
  }
  // host [":" port]
  absl::string_view host = authority;
  absl::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return Bad(text, "unterminated IPv6 address", host_start);
    }
    host = authority.substr(0, close + 1);
    const absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Bad(text, "junk after the IPv6 address", host_start + close + 1);
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = authority.find(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (absl::Status s = ParseHost(text, host, host_start, &url); !s.ok()) return s;
  url.port = url.default_port();
  if (has_port && !port.empty()) {
    const size_t port_offset = host_start + host.size() + 1;
    if (!std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
      return Bad(text, absl::StrCat("invalid port \"", port, "\""), port_offset);
    }
    // By value: leading zeros are allowed (RFC 3986 §3.2.3), "00080" is 80.
    const absl::string_view digits =
        port.substr(std::min(port.find_first_not_of('0'), port.size()));
    uint32_t p = 0;
    for (char c : digits.substr(0, 6)) p = p * 10 + static_cast<uint32_t>(c - '0');
    if (p == 0 || p > 65535 || digits.size() > 5) {
      return Bad(text,
                 absl::StrCat("port ", digits.empty() ? "0" : digits, " out of range (1-65535)"),
                 port_offset);
    }
    url.port = static_cast<uint16_t>(p);
    url.explicit_port = true;
  }

  // path ["?" query] ["#" fragment]
  size_t path_end = text.find_first_of("?#", auth_end);
  if (path_end == absl::string_view::npos) path_end = text.size();
  absl::StatusOr<std::string> path =
      NormalizeComponent(text, text.substr(auth_end, path_end - auth_end), auth_end, &PathChar);
  if (!path.ok()) return path.status();
  url.path = RemoveDotSegments(*path);
  if (url.path.empty()) url.path = "/";
  if (path_end < text.size() && text[path_end] == '?') {
    size_t query_end = text.find('#', path_end);
    if (query_end == absl::string_view::npos) query_end = text.size();
    absl::StatusOr<std::string> query = NormalizeComponent(
        text, text.substr(path_end + 1, query_end - path_end - 1), path_end + 1, &QueryChar);
    if (!query.ok()) return query.status();
    url.query = *std::move(query);
  }
  return url;
}

absl::StatusOr<Url> ResolveReference(const Url& base, absl::string_view ref) {
  for (size_t i = 0; i < ref.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(ref[i]);
    if (c == ' ') return Bad(ref, "space", i);
    if (c < 0x20 || c == 0x7F) return Bad(ref, "control character", i);
  }
  ref = ref.substr(0, ref.find('#'));  // the fragment is not used
  // A scheme (RFC 3986 §3.1) before any "/", "?" makes it absolute.
  const size_t colon = ref.find(':');
  const size_t first_delim = ref.find_first_of("/?");
  if (colon != absl::string_view::npos && colon > 0 &&
      (first_delim == absl::string_view::npos || colon < first_delim) &&
      absl::ascii_isalpha(ref[0]) && std::all_of(ref.begin(), ref.begin() + colon, [](char c) {
        return absl::ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
      })) {
    return ParseUrl(ref);
  }
  if (absl::StartsWith(ref, "//")) return ParseUrl(absl::StrCat(base.scheme, ":", ref));
  const std::string authority =
      absl::StrCat(base.scheme, "://",
                   base.userinfo.empty() ? "" : absl::StrCat(base.userinfo, "@"), base.HostPort());
  const size_t q = ref.find('?');
  const absl::string_view ref_path = ref.substr(0, q);
  const std::string ref_query = q == absl::string_view::npos ? "" : std::string(ref.substr(q));
  if (ref_path.empty()) {
    const std::string query = q != absl::string_view::npos
                                  ? ref_query
                                  : (base.query.has_value() ? absl::StrCat("?", *base.query) : "");
    return ParseUrl(absl::StrCat(authority, base.path, query));
  }
  if (ref_path.front() == '/') return ParseUrl(absl::StrCat(authority, ref_path, ref_query));
  // Merge (§5.2.3): the base path up to its last "/", then the reference path.
  const std::string merged = absl::StrCat(base.path.substr(0, base.path.rfind('/') + 1), ref_path);
  return ParseUrl(absl::StrCat(authority, RemoveDotSegments(merged), ref_query));
}

}  // namespace corio::http
