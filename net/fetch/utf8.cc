#include "net/fetch/utf8.h"

#include <cstdint>

namespace corio::fetch {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629, section 4), or
// 0 when there is none.
size_t SequenceLength(absl::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto cont = [&](size_t i, uint8_t lo = 0x80, uint8_t hi = 0xbf) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;  // no surrogates
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;  // <= U+10FFFF
  return 0;
}

void FixInPlace(std::string& s) {
  if (!IsValidUtf8(s)) s = ToValidUtf8(s);
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = SequenceLength(text.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = SequenceLength(text.substr(i));
    if (n > 0) {
      out.append(text.data() + i, n);
      i += n;
      continue;
    }
    // ISO-8859-1: byte 0xXY is U+00XY, two bytes in UTF-8.
    const uint8_t c = static_cast<uint8_t>(text[i++]);
    out.push_back(static_cast<char>(0xc0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
  return out;
}

void MakeStringsValidUtf8(v1::FetchResponse& response) {
  FixInPlace(*response.mutable_reason());
  for (v1::Header& h : *response.mutable_headers()) FixInPlace(*h.mutable_name());
  FixInPlace(*response.mutable_final_url());
  for (v1::Redirect& r : *response.mutable_redirects()) {
    FixInPlace(*r.mutable_url());
    FixInPlace(*r.mutable_location());
  }
  if (response.has_error()) FixInPlace(*response.mutable_error()->mutable_message());
}

}  // namespace corio::fetch
