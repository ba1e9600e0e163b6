// Character classes of HTTP/1.1 (RFC 9110 §5.6.2, §5.5), shared by the parser, the
// serializer and the URL parser.
#ifndef CORIO_NET_HTTP_CHARS_H_
#define CORIO_NET_HTTP_CHARS_H_

namespace corio::http {

// tchar: the characters of a token (method, field name, transfer coding).
constexpr bool IsTokenChar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '!' ||
         c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
         c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}

// Control characters (not allowed in field values, except HTAB).
constexpr bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

// The value of a hex digit (either case), or -1 (chunk sizes, percent-encoding).
constexpr int HexDigitValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_CHARS_H_
