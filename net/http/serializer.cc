#include "net/http/serializer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/http/chars.h"

namespace corio::http {
namespace {

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

bool IsFieldValue(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == '\t' || !IsControl(static_cast<unsigned char>(c)); });
}

absl::Status Invalid(absl::string_view what, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("http request: ", what, " \"", absl::CHexEscape(value), "\""));
}

}  // namespace

absl::Status SerializeRequestHead(const RequestHead& req, RequestBody body, std::string* out) {
  if (!IsToken(req.method)) return Invalid("invalid method", req.method);
  if (req.target.empty()) return Invalid("empty request target", req.target);
  for (char c : req.target) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return Invalid("invalid request target", req.target);
  }
  bool has_length = false, has_te = false;
  for (const auto& [name, value] : req.headers) {
    if (!IsToken(name)) return Invalid("invalid header name", name);
    if (!IsFieldValue(value)) {
      return Invalid(absl::StrCat("invalid value for header ", name), value);
    }
    if (absl::EqualsIgnoreCase(name, "content-length")) {
      uint64_t n;
      if (body.kind != RequestBody::kLength || !absl::SimpleAtoi(value, &n) || n != body.length) {
        return Invalid("Content-Length that does not match the body", value);
      }
      has_length = true;
    } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      if (body.kind != RequestBody::kChunked || !absl::EqualsIgnoreCase(value, "chunked")) {
        return Invalid("Transfer-Encoding that does not match the body", value);
      }
      has_te = true;
    }
  }
  absl::StrAppend(out, req.method, " ", req.target, " HTTP/1.1\r\n");
  for (const auto& [name, value] : req.headers) absl::StrAppend(out, name, ": ", value, "\r\n");
  if (body.kind == RequestBody::kLength && !has_length) {
    absl::StrAppend(out, "Content-Length: ", body.length, "\r\n");
  } else if (body.kind == RequestBody::kChunked && !has_te) {
    out->append("Transfer-Encoding: chunked\r\n");
  }
  out->append("\r\n");
  return absl::OkStatus();
}

void AppendChunk(absl::string_view data, std::string* out) {
  if (data.empty()) return;
  absl::StrAppend(out, absl::Hex(data.size()), "\r\n");
  out->append(data.data(), data.size());
  out->append("\r\n");
}

void AppendLastChunk(std::string* out) { out->append("0\r\n\r\n"); }

}  // namespace corio::http
