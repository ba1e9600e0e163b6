#include "net/http/client.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/random/distributions.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "loop/event_loop.h"
#include "net/connect.h"
#include "net/http/decoding.h"
#include "net/http/internal/body_reader.h"
#include "net/http/internal/connection.h"
#include "net/http/internal/pool.h"
#include "net/http/serializer.h"
#include "net/http/url.h"
#include "net/tcp_stream.h"
#include "net/tls/tls_context.h"
#include "net/tls/tls_stream.h"
#include "tasks/sleep.h"
#include "tasks/with_timeout.h"

namespace corio::http {

using http_internal::BodyLimits;
using http_internal::BodyReader;
using http_internal::Connection;
using http_internal::Pool;
using http_internal::ReadLimits;

namespace {

// Request bodies up to this size are copied behind the head (one write); larger ones are
// written from the Request with writev, not copied.
constexpr size_t kInlineBody = 16 * 1024;

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               absl::string_view name) {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

void RemoveHeader(std::vector<std::pair<std::string, std::string>>& headers,
                  absl::string_view name) {
  headers.erase(
      std::remove_if(headers.begin(), headers.end(),
                     [&](const auto& h) { return absl::EqualsIgnoreCase(h.first, name); }),
      headers.end());
}

std::string PoolKey(const Url& url) {
  return absl::StrCat(url.scheme, "://", url.host, ":", url.port);
}

bool SameOrigin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// A failure worth retrying / replaying: the transport failed, not the request.
bool IsConnectionError(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

// Prefixes a lower layer's message with the request ("http GET http://h/x:
// ...").
absl::Status WithContext(const absl::Status& s, absl::string_view what) {
  if (absl::StartsWith(s.message(), absl::StrCat("http ", what))) return s;
  return absl::Status(s.code(), absl::StrCat("http ", what, ": ", s.message()));
}

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
std::optional<absl::Duration> ParseRetryAfter(absl::string_view v, absl::Time now) {
  v = absl::StripAsciiWhitespace(v);
  int64_t secs;
  if (absl::SimpleAtoi(v, &secs)) {
    if (secs < 0) return std::nullopt;
    return absl::Seconds(secs);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(v), &t, &err) ||
      absl::ParseTime("%a, %d %b %Y %H:%M:%S", std::string(v), &t, &err)) {
    return std::max(absl::ZeroDuration(), t - now);
  }
  return std::nullopt;
}

absl::Duration Backoff(const RetryPolicy& p, int attempt) {
  double d = absl::ToDoubleSeconds(p.initial_backoff) * std::pow(p.multiplier, attempt - 1);
  d = std::min(d, absl::ToDoubleSeconds(p.max_backoff));
  if (p.jitter > 0) {
    static thread_local absl::BitGen gen;
    d *= absl::Uniform(gen, 1.0 - p.jitter, 1.0 + p.jitter);
  }
  return absl::Seconds(std::max(0.0, d));
}

}  // namespace

namespace {

// Opening a connection: DNS, the address filter, TCP, TLS.
struct Hop {
  static Task<absl::StatusOr<std::unique_ptr<Connection>>> Open(Pool* pool,
                                                                const ClientOptions* options,
                                                                const Url* url, std::string key) {
    absl::StatusOr<dns::Resolver*> resolver = pool->resolver();
    if (!resolver.ok()) co_return resolver.status();
    ConnectOptions copts;
    copts.timeout = absl::Hours(24 * 365);  // OpenWithin bounds DNS + TCP + TLS together
    copts.address_filter = options->address_filter;
    absl::StatusOr<TcpStream> tcp =
        co_await ConnectToHost(**resolver, url->host, url->port, std::move(copts));
    if (!tcp.ok()) co_return tcp.status();
    std::string peer = tcp->peer().ToString();
    std::unique_ptr<ByteStream> stream = std::make_unique<TcpStream>(*std::move(tcp));
    if (url->is_https()) {
      absl::StatusOr<std::shared_ptr<tls::TlsContext>> ctx = pool->tls_context();
      if (!ctx.ok()) co_return ctx.status();
      absl::StatusOr<std::unique_ptr<tls::TlsStream>> tls =
          co_await tls::TlsStream::Connect(*std::move(ctx), std::move(stream), url->host);
      if (!tls.ok()) co_return tls.status();
      stream = *std::move(tls);
    }
    ParserLimits limits;
    limits.max_head_bytes = options->max_head_bytes;
    ++pool->stats().connections_opened;
    co_return std::make_unique<Connection>(std::move(stream), std::move(key), std::move(peer),
                                           limits);
  }

  // Open within the connect timeout and the request's total `deadline`, whichever comes
  // first.
  static Task<absl::StatusOr<std::unique_ptr<Connection>>> OpenWithin(Pool* pool,
                                                                      const ClientOptions* options,
                                                                      const Url* url,
                                                                      std::string key,
                                                                      absl::Time deadline) {
    const absl::Duration t = options->connect_timeout;
    absl::Time until = deadline;
    if (t != absl::InfiniteDuration()) until = std::min(until, EventLoop::Current()->Now() + t);
    absl::StatusOr<std::unique_ptr<Connection>> c;
    if (until == absl::InfiniteFuture()) {
      c = co_await Open(pool, options, url, std::move(key));
    } else {
      c = co_await WithDeadline(until, Open(pool, options, url, std::move(key)));
      // Past the total deadline, Send words the error.
      if (absl::IsDeadlineExceeded(c.status()) && t != absl::InfiniteDuration() &&
          EventLoop::Current()->Now() < deadline) {
        c = absl::DeadlineExceededError(absl::StrCat("connect timeout ", absl::FormatDuration(t),
                                                     " exceeded (", url->HostPort(), ")"));
      }
    }
    if (!c.ok()) ++pool->stats().connect_failures;
    co_return c;
  }
};

}  // namespace

Client::Client() : Client(ClientOptions()) {}

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      user_agent_(options_.user_agent.empty() ? absl::StrCat("corio/", kCorioVersion)
                                              : options_.user_agent),
      pool_(std::make_shared<Pool>(options_)) {}

Client::~Client() { pool_->Close(); }

ClientStats Client::stats() const {
  ClientStats s = pool_->stats();
  s.idle_connections = pool_->idle_count();
  return s;
}

void Client::CloseIdleConnections() { pool_->CloseIdle(); }

Task<absl::StatusOr<Response>> Client::Get(std::string url) {
  Request req;
  req.url = std::move(url);
  co_return co_await Send(std::move(req));
}

Task<absl::StatusOr<Response>> Client::Post(std::string url, std::string body,
                                            std::string content_type) {
  Request req;
  req.method = "POST";
  req.url = std::move(url);
  req.body = std::move(body);
  req.headers.emplace_back("Content-Type", std::move(content_type));
  co_return co_await Send(std::move(req));
}

namespace {

// State of one Send across its hops.
struct Exchange {
  Request* req;
  Url url;
  std::string method;
  std::string what;  // "GET http://h/x" for messages
  absl::Time deadline;
  absl::Duration total;
};

absl::Status Serialize(const Exchange& ex, absl::string_view user_agent, bool decompress,
                       RequestHead& head, std::string* out) {
  head.method = ex.method;
  head.target = ex.url.RequestTarget();
  head.headers.clear();
  const auto& user = ex.req->headers;
  if (!HasHeader(user, "host")) head.headers.emplace_back("Host", ex.url.HostPort());
  if (!HasHeader(user, "user-agent")) head.headers.emplace_back("User-Agent", user_agent);
  if (decompress && !HasHeader(user, "accept-encoding")) {
    head.headers.emplace_back("Accept-Encoding", "gzip, deflate");
  }
  for (const auto& [name, value] : user) {
    if (value.empty() && (absl::EqualsIgnoreCase(name, "user-agent") ||
                          absl::EqualsIgnoreCase(name, "accept-encoding"))) {
      continue;  // an empty value removes the default
    }
    head.headers.emplace_back(name, value);
  }
  const bool wants_length =
      !ex.req->body.empty() || ex.method == "POST" || ex.method == "PUT" || ex.method == "PATCH";
  out->clear();
  absl::Status s = SerializeRequestHead(
      head, wants_length ? RequestBody::Length(ex.req->body.size()) : RequestBody::None(), out);
  if (!s.ok()) return s;
  if (ex.req->body.size() <= kInlineBody) out->append(ex.req->body);
  return absl::OkStatus();
}

}  // namespace

Task<absl::StatusOr<Response>> Client::Send(Request request) {
  Pool* pool = pool_.get();
  ++pool->stats().requests;
  const absl::Duration total = request.timeout.value_or(options_.total_timeout);
  // No task per request for the total timeout: every suspension point below is bounded by
  // `deadline` itself (permit waits, connecting, writes, reads; backoffs end before it).
  const absl::Time deadline = total == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : EventLoop::Current()->Now() + total;
  absl::StatusOr<Response> r = co_await SendWithin(&request, deadline, total);
  if (!r.ok()) {
    if (absl::IsDeadlineExceeded(r.status()) && deadline != absl::InfiniteFuture() &&
        EventLoop::Current()->Now() >= deadline) {
      r = absl::DeadlineExceededError(absl::StrCat("http ", request.method, " ", request.url,
                                                   ": total timeout ", absl::FormatDuration(total),
                                                   " exceeded"));
    }
    ++pool->stats().failures;
  }
  co_return r;
}

namespace {
// A permit for `key`, waiting at most until `deadline`.
Task<absl::Status> AcquirePermitBefore(Pool* pool, const std::string* key, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    co_return co_await pool->AcquirePermit(*key);
  }
  co_return co_await WithDeadline(deadline, pool->AcquirePermit(*key));
}
}  // namespace

Task<absl::StatusOr<Response>> Client::SendWithin(Request* req, absl::Time deadline,
                                                  absl::Duration total) {
  Exchange ex;
  ex.req = req;
  ex.deadline = deadline;
  ex.total = total;
  ex.method = req->method;
  {
    absl::StatusOr<Url> url = ParseUrl(req->url);
    if (!url.ok()) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("http ", req->method, " ", req->url, ": ", url.status().message()));
    }
    ex.url = *std::move(url);
  }
  ex.what = absl::StrCat(ex.method, " ", ex.url.ToString());
  const bool follow = req->follow_redirects.value_or(options_.follow_redirects);
  const int max_redirects = req->max_redirects.value_or(options_.max_redirects);
  const RetryPolicy& policy = options_.retry;
  std::vector<Redirect> history;
  std::vector<std::string> visited;  // "METHOD url" of every hop, for the loop guard
  int retries = 0;
  int replays = 0;
  bool dropped_credentials = false;

  for (;;) {
    const std::string key = PoolKey(ex.url);
    if (!pool_->TryAcquirePermit(key)) {
      absl::Status permit = co_await AcquirePermitBefore(pool_.get(), &key, deadline);
      if (!permit.ok()) co_return permit;
    }
    // From here the permit is owned by the BodyReader (or released below on
    // failure).
    std::unique_ptr<Connection> conn = pool_->TakeIdle(key, IsIdempotentMethod(ex.method));
    bool reused = conn != nullptr;
    bool replayed = false;
    absl::StatusOr<Response> result;
    std::unique_ptr<BodyReader> reader;
    for (;;) {  // at most twice: the replay of a request that failed on a reused
                // connection
      if (conn == nullptr) {
        absl::StatusOr<std::unique_ptr<Connection>> opened =
            co_await Hop::OpenWithin(pool_.get(), &options_, &ex.url, key, deadline);
        if (!opened.ok()) {
          pool_->ReleasePermit(key);
          result = WithContext(opened.status(), ex.what);
          break;
        }
        conn = *std::move(opened);
      }
      absl::Status s =
          Serialize(ex, user_agent_, options_.decompress, scratch_head_, &conn->write_buffer());
      if (!s.ok()) {
        pool_->PutIdle(std::move(conn));  // nothing was written
        pool_->ReleasePermit(key);
        co_return WithContext(s, ex.what);
      }
      ++pool_->stats().attempts;
      ++conn->uses;
      conn->parser().Reset(ex.method == "HEAD");
      ReadLimits limits{deadline, total, options_.read_timeout};
      reader = std::make_unique<BodyReader>(pool_, std::move(conn), limits, ex.what);
      {
        // A large body is written from the Request, not copied behind the head.
        const absl::string_view pieces[2] = {
            reader->conn()->write_buffer(),
            req->body.size() > kInlineBody ? absl::string_view(req->body) : absl::string_view()};
        s = co_await reader->conn()->stream().WriteAllvBefore(absl::MakeConstSpan(pieces),
                                                              deadline);
      }
      bool any_bytes = false;
      if (s.ok()) {
        s = co_await reader->ReadHead(&any_bytes);
      }
      if (s.ok()) break;
      // The reader closed the connection and released the permit on failure.
      const bool replay = reused && !replayed && !any_bytes && IsIdempotentMethod(ex.method) &&
                          absl::IsUnavailable(s);
      reader.reset();
      if (!replay) {
        result = WithContext(s, ex.what);
        break;
      }
      ++pool_->stats().replays;
      ++replays;
      replayed = true;
      reused = false;
      if (!pool_->TryAcquirePermit(key)) {
        absl::Status again = co_await AcquirePermitBefore(pool_.get(), &key, deadline);
        if (!again.ok()) co_return again;
      }
    }

    if (reader != nullptr) {
      // The head is in: build the Response.
      const ResponseHead& head = reader->conn()->parser().head();
      Response resp;
      resp.status_ = head.status;
      resp.version_minor_ = head.version_minor;
      resp.reason_ = std::string(head.reason);
      resp.headers_ = HeaderMap::CopyOf(head.headers);
      resp.content_length_ = reader->conn()->parser().content_length();
      if (!resp.content_length_.has_value() && ex.method == "HEAD") {
        uint64_t n;
        std::optional<absl::string_view> cl = resp.headers_.Get("content-length");
        if (cl.has_value() && absl::SimpleAtoi(*cl, &n)) resp.content_length_ = n;
      }
      resp.method_ = ex.method;
      ContentCoding coding = ContentCoding::kIdentity;
      if (options_.decompress) {
        if (std::optional<absl::string_view> ce = resp.headers_.Get("content-encoding")) {
          coding = ParseContentEncoding(*ce);
        }
      }
      const uint64_t max_body = req->max_body_bytes.value_or(options_.max_body_bytes);
      absl::Status s = reader->StartBody(
          coding,
          BodyLimits{max_body, options_.max_decompression_ratio, options_.ratio_guard_after});
      if (!s.ok()) {
        result = s;
      } else {
        resp.reader_ = std::move(reader);
        result = std::move(resp);
      }
    }

    // Retry?
    const bool may_retry = retries < policy.max_retries &&
                           (policy.retry_non_idempotent || IsIdempotentMethod(ex.method));
    if (may_retry) {
      absl::Duration wait = Backoff(policy, retries + 1);
      bool retry = false;
      if (!result.ok()) {
        retry = policy.on_connection_errors && IsConnectionError(result.status());
      } else {
        const int st = result->status();
        retry = (st == 429 && policy.on_429) || (st >= 500 && st < 600 && policy.on_5xx);
        if (retry) {
          if (std::optional<absl::string_view> ra = result->headers().Get("retry-after")) {
            if (std::optional<absl::Duration> d =
                    ParseRetryAfter(*ra, EventLoop::Current()->Now())) {
              wait = std::min(*d, policy.max_retry_after);
            }
          }
        }
      }
      if (retry && EventLoop::Current()->Now() + wait < deadline) {
        if (result.ok()) {
          // Drain a small body so the connection can be reused; close a large
          // one.
          if (result->content_length().value_or(UINT64_MAX) <= 64 * 1024) {
            absl::Status d = co_await result->Discard();
            (void)d;
          }
          result->Close();
        }
        ++retries;
        ++pool_->stats().retries;
        absl::Status slept = co_await Sleep(wait);
        if (!slept.ok()) co_return slept;
        continue;
      }
    }
    if (!result.ok()) co_return result.status();

    // Redirect?
    Response& resp = *result;
    std::optional<absl::string_view> location = resp.headers().Get("location");
    if (follow && IsRedirect(resp.status()) && location.has_value()) {
      if (static_cast<int>(history.size()) >= max_redirects) {
        co_return absl::ResourceExhaustedError(
            absl::StrCat("http ", ex.what, ": too many redirects (more than ", max_redirects, ")"));
      }
      absl::StatusOr<Url> next = ResolveReference(ex.url, *location);
      if (!next.ok()) {
        co_return absl::DataLossError(absl::StrCat("http ", ex.what, ": bad redirect Location \"",
                                                   absl::CHexEscape(*location),
                                                   "\": ", next.status().message()));
      }
      Redirect hop;
      hop.url = ex.url.ToString();
      hop.status = resp.status();
      hop.location = std::string(*location);
      // Method rules (RFC 9110 §15.4): 303 -> GET (HEAD stays HEAD); 301/302
      // POST -> GET; 307/308 keep the method and the body.
      std::string method = ex.method;
      if ((resp.status() == 303 && method != "HEAD") ||
          ((resp.status() == 301 || resp.status() == 302) && method == "POST")) {
        method = "GET";
      }
      if (method != ex.method) {
        req->body.clear();
        RemoveHeader(req->headers, "content-length");
        RemoveHeader(req->headers, "content-type");
        RemoveHeader(req->headers, "transfer-encoding");
      }
      if (!SameOrigin(ex.url, *next) && !dropped_credentials) {
        RemoveHeader(req->headers, "authorization");
        RemoveHeader(req->headers, "cookie");
        RemoveHeader(req->headers, "proxy-authorization");
        dropped_credentials = true;
      }
      // Loop guard: the same method on a URL already visited.
      visited.push_back(absl::StrCat(ex.method, " ", hop.url));
      const std::string next_id = absl::StrCat(method, " ", next->ToString());
      if (std::find(visited.begin(), visited.end(), next_id) != visited.end()) {
        co_return absl::ResourceExhaustedError(
            absl::StrCat("http ", ex.what, ": redirect loop back to ", next->ToString()));
      }
      if (resp.content_length().value_or(UINT64_MAX) <= 64 * 1024) {
        absl::Status d = co_await resp.Discard();
        (void)d;  // a broken redirect body only costs the connection
      }
      resp.Close();
      history.push_back(std::move(hop));
      ++pool_->stats().redirects;
      ex.url = *std::move(next);
      ex.method = std::move(method);
      ex.what = absl::StrCat(ex.method, " ", ex.url.ToString());
      continue;
    }

    resp.url_ = std::move(ex.url);
    resp.history_ = std::move(history);
    resp.retries_ = retries + replays;
    if (req->body_mode == BodyMode::kStream) {
      absl::Status p = co_await resp.Prefetch();
      if (!p.ok()) co_return p;
    } else if (req->body_mode == BodyMode::kBuffer) {
      absl::StatusOr<std::string> text = co_await resp.Text();
      if (!text.ok()) co_return text.status();
      resp.body_ = *std::move(text);
    } else if (req->body_mode == BodyMode::kDiscard) {
      absl::Status d = co_await resp.Discard();
      if (!d.ok()) co_return d;
    }
    co_return std::move(resp);
  }
}

}  // namespace corio::http
