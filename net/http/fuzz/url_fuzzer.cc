// Fuzzes ParseUrl and ResolveReference. Properties: no crash; normalization is a fixed point
// (parsing a URL's ToString() gives the same URL); resolution yields a valid URL or an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "net/http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<corio::http::Url> url = corio::http::ParseUrl(text);
  if (url.ok()) {
    const std::string once = url->ToString();
    absl::StatusOr<corio::http::Url> again = corio::http::ParseUrl(once);
    if (!again.ok() || again->ToString() != once) std::abort();
  }
  static const corio::http::Url base = *corio::http::ParseUrl("http://a.example/b/c/d;p?q");
  absl::StatusOr<corio::http::Url> resolved = corio::http::ResolveReference(base, text);
  if (resolved.ok() && !corio::http::ParseUrl(resolved->ToString()).ok()) std::abort();
  return 0;
}
