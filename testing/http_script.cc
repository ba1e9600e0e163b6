#include "testing/http_script.h"

#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "testing/http_server_internal.h"

namespace corio::testing {

std::optional<absl::string_view> HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return absl::string_view(v);
  }
  return std::nullopt;
}

std::vector<absl::string_view> HttpRequest::Headers(absl::string_view name) const {
  std::vector<absl::string_view> out;
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) out.push_back(v);
  }
  return out;
}

void HttpGate::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_) return;
  open_ = true;
  // Under the lock: once CancelWaitInternal returns, its waker neither runs nor will.
  for (auto& [ticket, wake] : waiters_) wake();
  waiters_.clear();
}

bool HttpGate::is_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

int HttpGate::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiters_.size());
}

std::optional<uint64_t> HttpGate::WaitInternal(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_) return std::nullopt;
  const uint64_t ticket = next_ticket_++;
  waiters_.emplace_back(ticket, std::move(wake));
  return ticket;
}

void HttpGate::CancelWaitInternal(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->first == ticket) {
      waiters_.erase(it);
      return;
    }
  }
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string json) {
  return Text(status, std::move(json), "application/json");
}

HttpResponse HttpResponse::Status(int status) {
  HttpResponse r;
  r.status = status;
  return r;
}

HttpResponse HttpResponse::Redirect(int status, std::string location) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

HttpResponse HttpResponse::Raw(std::string bytes) {
  HttpResponse r;
  r.raw = std::move(bytes);
  r.close_connection = true;
  return r;
}

HttpResponse HttpResponse::Stall() {
  HttpResponse r;
  r.fault = Fault::kStallBeforeHead;
  return r;
}

HttpResponse HttpResponse::Reset() {
  HttpResponse r;
  r.fault = Fault::kResetBeforeHead;
  return r;
}

HttpResponse HttpResponse::Close() {
  HttpResponse r;
  r.fault = Fault::kCloseBeforeHead;
  return r;
}

HttpResponse HttpResponse::GzipBomb(uint64_t decoded_bytes) {
  // Built once per size: a 10 GiB bomb is 10 MB to build.
  static std::mutex mu;
  static std::map<uint64_t, std::shared_ptr<const std::string>>* cache =
      new std::map<uint64_t, std::shared_ptr<const std::string>>();
  std::shared_ptr<const std::string> body;
  {
    std::lock_guard<std::mutex> lock(mu);
    std::shared_ptr<const std::string>& slot = (*cache)[decoded_bytes];
    if (slot == nullptr) {
      slot = std::make_shared<const std::string>(http_internal::BuildGzipBomb(decoded_bytes));
    }
    body = slot;
  }
  HttpResponse r;
  r.body = *body;
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.headers.emplace_back("Content-Encoding", "gzip");
  return r;
}

HttpResponse&& HttpResponse::WithHeader(std::string name, std::string value) && {
  headers.emplace_back(std::move(name), std::move(value));
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithChunks(std::vector<size_t> sizes) && {
  framing = Framing::kChunked;
  chunk_sizes = std::move(sizes);
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithEncoding(Encoding e) && {
  encoding = e;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithDelayBeforeHead(absl::Duration d) && {
  delay_before_head = d;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithDelayBeforeBody(absl::Duration d) && {
  delay_before_body = d;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithTrickle(size_t bytes, absl::Duration interval) && {
  trickle_bytes = bytes;
  trickle_interval = interval;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithFault(Fault f, size_t after_body_bytes) && {
  fault = f;
  fault_after_bytes = after_body_bytes;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithInterim(std::vector<int> statuses) && {
  interim = std::move(statuses);
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithHugeHeader(size_t bytes, std::string name) && {
  headers.emplace_back(std::move(name), std::string(bytes, 'h'));
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithRetryAfter(absl::Duration d) && {
  headers.emplace_back("Retry-After", absl::StrCat(absl::ToInt64Seconds(d)));
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithCloseAfterResponses(int n, bool announce) && {
  close_after_responses = n;
  announce_close = announce;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithClose(bool announce) && {
  close_connection = true;
  announce_close = announce;
  return std::move(*this);
}

HttpResponse&& HttpResponse::WithGate(std::shared_ptr<HttpGate> g) && {
  gate = std::move(g);
  return std::move(*this);
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

HttpResponse EchoResponse(const HttpRequest& request) {
  std::string json = "{\"method\":";
  AppendJsonString(json, request.method);
  json += ",\"target\":";
  AppendJsonString(json, request.target);
  json += ",\"path\":";
  AppendJsonString(json, request.path);
  json += ",\"query\":";
  AppendJsonString(json, request.query);
  json += ",\"version\":";
  AppendJsonString(json, request.version);
  json += ",\"headers\":[";
  for (size_t i = 0; i < request.headers.size(); ++i) {
    if (i > 0) json += ",";
    json += "[";
    AppendJsonString(json, request.headers[i].first);
    json += ",";
    AppendJsonString(json, request.headers[i].second);
    json += "]";
  }
  json += "],\"body\":";
  AppendJsonString(json, request.body);
  absl::StrAppend(&json, ",\"body_bytes\":", request.body.size(),
                  ",\"chunked\":", request.chunked ? "true" : "false", "}");
  return HttpResponse::Json(200, std::move(json));
}

namespace http_internal {

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               absl::string_view name) {
  for (const auto& h : headers) {
    if (absl::EqualsIgnoreCase(h.first, name)) return true;
  }
  return false;
}

void EncodeBody(HttpResponse& r) {
  if (r.encoding == HttpResponse::Encoding::kIdentity) return;
  r.body = Compress(r.encoding, r.body);
  if (r.auto_headers && !HasHeader(r.headers, "Content-Encoding")) {
    r.headers.emplace_back("Content-Encoding",
                           r.encoding == HttpResponse::Encoding::kGzip ? "gzip" : "deflate");
  }
  r.encoding = HttpResponse::Encoding::kIdentity;
}

}  // namespace http_internal
}  // namespace corio::testing
