// Character classes of HTTP/1.1 (RFC 9110 §5.6.2, §5.5), shared by the parser and the
// serializer.
#ifndef CORIO_NET_HTTP_CHARS_H_
#define CORIO_NET_HTTP_CHARS_H_

namespace corio::http {

// tchar: the characters of a token (method, field name, transfer coding).
constexpr bool IsTokenChar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
         c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' ||
         c == '~';
}

// Control characters (not allowed in field values, except HTAB).
constexpr bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_CHARS_H_
