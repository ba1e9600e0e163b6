#include "cmd/fetch_cmd/remote_fetcher.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "net/fetch/fetch_stream.h"
#include "net/http/url.h"
#include "tasks/event.h"
#include "tasks/spawn.h"

namespace corio::fetch_cmd {
namespace {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

class RemoteFetcher final : public LoopFetcher {
 public:
  RemoteFetcher(fetch::FetchClient& client, std::shared_ptr<const FetchOptions> options,
                const BodyFiles* body_files)
      : options_holder_(std::move(options)),
        options_(*options_holder_),
        body_files_(body_files),
        stream_(client, StreamOptions(options_)) {}

  Task<void> Fetch(FetchResult& r) override {
    // A URL the HTTP client would refuse fails here, with the local run's message (see
    // http::Client: "http GET ftp://x/: url ...: unsupported scheme"), never sent.
    absl::StatusOr<http::Url> url = http::ParseUrl(r.url);
    if (!url.ok()) {
      r.error = absl::InvalidArgumentError(
          absl::StrCat("http ", options_.method, " ", r.url, ": ", url.status().message()));
      co_return;
    }
    Pending pending;
    pending_.emplace(r.index, &pending);
    stream_.Push({.id = r.index, .request = MakeFetchRequest(options_, r.url)});
    if (!pump_) pump_.emplace(Spawn(Pump()));
    absl::Status waited = co_await pending.done.Wait();
    pending_.erase(r.index);  // (a late answer for a cancelled URL is dropped)
    if (!waited.ok()) {
      r.error = waited;
      co_return;
    }
    Fill(std::move(pending.result), r);
  }

  Task<void> Finish() override {
    stream_.Close();
    if (pump_) {
      absl::Status ignored = co_await std::move(*pump_);
      (void)ignored;
      pump_.reset();
    }
  }

 private:
  struct Pending {
    Event done;
    fetch::FetchStreamResult result;
  };

  static fetch::FetchStreamOptions StreamOptions(const FetchOptions& o) {
    fetch::FetchStreamOptions s;
    s.concurrency = o.concurrency;
    s.batch_size = std::max(1, std::min(16, o.concurrency / 2));
    // Each call's deadline leaves room for its items' own timeouts (the server enforces those).
    s.call.timeout = o.timeout + absl::Seconds(30);
    return s;
  }

  // Delivers results to the Fetch calls waiting for them.
  Task<absl::Status> Pump() {
    for (;;) {
      absl::StatusOr<std::optional<fetch::FetchStreamResult>> next = co_await stream_.Next();
      if (!next.ok()) {
        // (Only when the run is being cancelled.) Nobody waits for an answer that will not come.
        for (auto& [id, pending] : pending_) {
          pending->result.status = next.status();
          pending->done.Set();
        }
        co_return next.status();
      }
      if (!next->has_value()) co_return absl::OkStatus();
      auto it = pending_.find((*next)->id);
      if (it == pending_.end()) continue;
      it->second->result = std::move(**next);
      it->second->done.Set();
    }
  }

  void Fill(fetch::FetchStreamResult res, FetchResult& r) {
    const fetch::v1::FetchResponse& resp = res.response;
    r.attempts = res.attempts;
    r.error = res.status;
    r.server = res.server;
    if (resp.status() > 0) {
      r.status = resp.status();
      r.final_url = resp.final_url();
      r.redirects = resp.redirects_size();
      r.bytes = static_cast<uint64_t>(resp.body_size() > 0 ? resp.body_size()
                                                           : static_cast<int64_t>(resp.body().size()));
    }
    if (!r.error.ok() || r.status == 0) return;
    if (options_.output == OutputMode::kBody) {
      r.body = std::move(*res.response.mutable_body());
    } else if (body_files_ != nullptr) {
      absl::StatusOr<BodyFile> file = body_files_->Start(r.index, r.url);
      absl::Status st = file.status();
      if (st.ok()) st = file->Write(resp.body());
      if (st.ok()) {
        absl::StatusOr<std::string> name = file->Commit();
        if (name.ok()) {
          r.file = std::move(*name);
        } else {
          st = name.status();
        }
      }
      if (!st.ok()) r.error = st;
    }
  }

  const std::shared_ptr<const FetchOptions> options_holder_;
  const FetchOptions& options_;
  const BodyFiles* body_files_;
  fetch::FetchStream stream_;
  absl::flat_hash_map<uint64_t, Pending*> pending_;
  std::optional<JoinHandle<absl::Status>> pump_;
};

}  // namespace

fetch::v1::FetchRequest MakeFetchRequest(const FetchOptions& o, const std::string& url) {
  fetch::v1::FetchRequest req;
  req.set_url(url);
  req.set_method(o.method);
  for (const auto& [name, value] : o.headers) {
    fetch::v1::Header* h = req.add_headers();
    h->set_name(name);
    h->set_value(value);
  }
  if (o.data) req.set_body(*o.data);
  SetDuration(o.timeout, req.mutable_timeout());
  req.set_max_body_bytes(static_cast<int64_t>(o.max_body_bytes));
  const bool want_body = o.output == OutputMode::kBody || !o.output_dir.empty();
  req.set_body_mode(want_body ? fetch::v1::BODY_MODE_FULL : fetch::v1::BODY_MODE_SIZE_ONLY);
  req.set_max_redirects(o.max_redirects);
  return req;
}

LoopFetcherFactory RemoteFetcherFactory(fetch::FetchClient& client, FetchOptions options,
                                        const BodyFiles* body_files) {
  auto shared = std::make_shared<const FetchOptions>(std::move(options));
  return [&client, shared, body_files]() -> absl::StatusOr<std::unique_ptr<LoopFetcher>> {
    return std::make_unique<RemoteFetcher>(client, shared, body_files);
  };
}

}  // namespace corio::fetch_cmd
