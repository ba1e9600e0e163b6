#include "net/fetch/http_backend.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "net/fetch/proto_time.h"
#include "net/http/client.h"
#include "net/http/url.h"

namespace corio::fetch {
namespace {

class HttpBackend final : public FetchBackend {
 public:
  HttpBackend(EventLoop& loop, std::shared_ptr<const HttpBackendOptions> options,
              std::unique_ptr<dns::Resolver> resolver)
      : loop_(loop), options_(std::move(options)), resolver_(std::move(resolver)) {
    http::ClientOptions c = options_->client;
    c.address_filter = options_->policy.AsFilter();
    if (resolver_ != nullptr) c.resolver = resolver_.get();
    client_ = std::make_unique<http::Client>(std::move(c));
  }

  Task<absl::Status> Fetch(const v1::FetchRequest& request, absl::Time deadline,
                           v1::FetchResponse& out) override {
    const absl::Time start = loop_.Now();
    http::Request r;
    r.method = request.method().empty() ? "GET" : request.method();
    r.url = request.url();
    for (const v1::Header& h : request.headers()) r.headers.emplace_back(h.name(), h.value());
    r.body = request.body();

    absl::Duration timeout = options_->default_timeout;
    if (request.has_timeout() && FromProtoDuration(request.timeout()) > absl::ZeroDuration()) {
      timeout = FromProtoDuration(request.timeout());
    }
    timeout = std::min(timeout, options_->max_timeout);
    if (deadline != absl::InfiniteFuture()) timeout = std::min(timeout, deadline - start);
    if (timeout <= absl::ZeroDuration()) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("fetch ", request.url(), ": the call's deadline passed before it began"));
    }
    r.timeout = timeout;
    uint64_t max_body = options_->max_body_bytes;
    if (request.max_body_bytes() > 0) {
      max_body = std::min<uint64_t>(max_body, static_cast<uint64_t>(request.max_body_bytes()));
    }
    r.max_body_bytes = max_body;
    if (request.has_max_redirects()) {
      r.follow_redirects = request.max_redirects() > 0;
      r.max_redirects = std::min(request.max_redirects(), options_->client.max_redirects);
    }
    r.body_mode = http::BodyMode::kStream;

    absl::StatusOr<http::Response> sent = co_await client_->Send(std::move(r));
    if (!sent.ok()) co_return sent.status();
    http::Response& resp = *sent;
    *out.mutable_timing()->mutable_headers() = ToProtoDuration(loop_.Now() - start);
    out.set_status(resp.status());
    out.set_reason(resp.reason());
    for (const http::Header& h : resp.headers()) {
      v1::Header* oh = out.add_headers();
      oh->set_name(std::string(h.name));
      oh->set_value(std::string(h.value));
    }
    out.set_final_url(resp.url_string());
    for (const http::Redirect& hop : resp.history()) {
      v1::Redirect* rd = out.add_redirects();
      rd->set_url(hop.url);
      rd->set_status(hop.status);
      absl::StatusOr<http::Url> base = http::ParseUrl(hop.url);
      absl::StatusOr<http::Url> to =
          base.ok() ? http::ResolveReference(*base, hop.location) : base.status();
      rd->set_location(to.ok() ? to->ToString() : hop.location);
    }

    absl::Status body_status;
    if (request.body_mode() == v1::BODY_MODE_SIZE_ONLY) {
      body_status = co_await resp.Discard();
    } else {
      absl::StatusOr<std::string> text = co_await resp.Text();
      if (text.ok()) {
        out.set_body(*std::move(text));
      } else {
        body_status = text.status();
      }
    }
    out.set_body_size(static_cast<int64_t>(resp.body_bytes()));
    *out.mutable_timing()->mutable_total() = ToProtoDuration(loop_.Now() - start);
    co_return body_status;
  }

 private:
  EventLoop& loop_;
  const std::shared_ptr<const HttpBackendOptions> options_;
  std::unique_ptr<dns::Resolver> resolver_;  // before client_: destroyed after it
  std::unique_ptr<http::Client> client_;
};

}  // namespace

BackendFactory HttpBackendFactory(HttpBackendOptions options) {
  auto shared = std::make_shared<const HttpBackendOptions>(std::move(options));
  return [shared](EventLoop& loop) -> absl::StatusOr<std::unique_ptr<FetchBackend>> {
    std::unique_ptr<dns::Resolver> resolver;
    if (shared->resolver_options.has_value()) {
      absl::StatusOr<std::unique_ptr<dns::Resolver>> r =
          dns::Resolver::Create(*shared->resolver_options);
      if (!r.ok()) return r.status();
      resolver = *std::move(r);
    }
    return std::make_unique<HttpBackend>(loop, shared, std::move(resolver));
  };
}

}  // namespace corio::fetch
