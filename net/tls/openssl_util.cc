#include "net/tls/openssl_util.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace corio::tls_internal {

std::string TakeErrors() {
  std::vector<std::string> reasons;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    std::string reason = r != nullptr ? std::string(r) : absl::StrCat("error ", ERR_GET_REASON(e));
    bool seen = false;
    for (const std::string& s : reasons) seen = seen || s == reason;
    if (!seen) reasons.push_back(std::move(reason));
  }
  return absl::StrJoin(reasons, "; ");
}

absl::Status OpenSslStatus(absl::StatusCode code, absl::string_view what) {
  std::string reasons = TakeErrors();
  return absl::Status(
      code, absl::StrCat(what, ": ", reasons.empty() ? "unknown OpenSSL error" : reasons));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace corio::tls_internal
