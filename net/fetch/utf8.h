// Valid UTF-8 for the fetch service's proto3 `string` fields. A proto3 string must be UTF-8:
// a message holding one that is not fails to parse in every stock client (the whole message,
// and in a stream the call). What the service copies from HTTP peers (reason phrases, header
// names, URLs, error messages) may hold any byte, so the service passes it through here.
//
//   corio::fetch::ToValidUtf8("Gr\xfc\xdf" "e");     // "Größe" (U+00FC U+00DF, in UTF-8)
//   corio::fetch::ToValidUtf8("caf\xc3\xa9");        // "café": valid UTF-8 stays as it is
//   corio::fetch::MakeStringsValidUtf8(response);   // every string field of a FetchResponse
//
// Bytes that are not part of a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) are read as ISO-8859-1, the charset HTTP/1.1 reason
// phrases and header fields historically carried (RFC 9110, section 5.5): each such byte
// becomes the character of the same number. Valid sequences are kept.
// Threading: pure functions.
#ifndef CORIO_NET_FETCH_UTF8_H_
#define CORIO_NET_FETCH_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"
#include "net/fetch/fetch.pb.h"

namespace corio::fetch {

bool IsValidUtf8(absl::string_view text);
std::string ToValidUtf8(absl::string_view text);

// reason, header names, final_url, redirects' url and location, error.message.
void MakeStringsValidUtf8(v1::FetchResponse& response);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_UTF8_H_
