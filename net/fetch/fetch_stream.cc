#include "net/fetch/fetch_stream.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "loop/event_loop.h"
#include "tasks/queue.h"
#include "tasks/spawn.h"

namespace corio::fetch {
namespace fetch_stream_internal {
namespace {

// Call errors after which the call's unanswered items are worth sending again (to another
// server): the server went away, shut down, was busy, or broke.
bool Retriable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

bool Idempotent(const std::string& method) {
  return method.empty() || method == "GET" || method == "HEAD" || method == "OPTIONS" ||
         method == "TRACE" || method == "PUT" || method == "DELETE";
}

}  // namespace

struct Pending {
  FetchStreamItem item;
  int attempts = 0;
  absl::Time ready_at;  // retries wait until then (the loop's clock)
};

struct Core : std::enable_shared_from_this<Core> {
  Core(FetchClient& c, FetchStreamOptions o) : client(c), options(std::move(o)) {
    options.concurrency = std::max(1, options.concurrency);
    options.batch_size = std::clamp(options.batch_size, 1, options.concurrency);
    options.max_attempts = std::max(1, options.max_attempts);
    loop = EventLoop::Current();
    CORIO_CHECK_MSG(loop != nullptr, "FetchStream: create it on a thread running an EventLoop");
  }

  void Deliver(FetchStreamResult r) { (void)results.TryPut(std::move(r)); }

  void Fail(Pending& p, absl::Status s, std::string server) {
    FetchStreamResult r;
    r.id = p.item.id;
    r.status = std::move(s);
    r.server = std::move(server);
    r.attempts = p.attempts;
    Deliver(std::move(r));
  }

  absl::Duration Backoff(int attempts) const {
    absl::Duration d = options.retry_backoff;
    for (int i = 1; i < attempts && d < options.max_retry_backoff; ++i) d *= 2;
    return std::min(d, options.max_retry_backoff);
  }

  // Starts calls while there is room and work; arms the retry timer; closes the results
  // when everything is answered.
  void Pump() {
    if (cancelled) return;
    const absl::Time now = loop->Now();
    absl::Time next_retry = absl::InfiniteFuture();
    for (;;) {
      const int room = options.concurrency - in_calls;
      if (room <= 0) break;
      int ready_retries = 0;
      next_retry = absl::InfiniteFuture();
      for (const Pending& p : retry) {
        if (p.ready_at <= now) {
          ++ready_retries;
        } else {
          next_retry = std::min(next_retry, p.ready_at);
        }
      }
      const int available = ready_retries + static_cast<int>(fresh.size());
      if (available == 0) break;
      const int full = std::min(options.batch_size, available);
      const int take = std::min(full, room);
      // Rather than a sliver of a batch now, a full one when room comes back (a call in
      // flight will free it); with nothing in flight, whatever fits.
      if (take < full && calls_running > 0) break;
      std::vector<Pending> batch;
      batch.reserve(take);
      for (auto it = retry.begin(); it != retry.end() && static_cast<int>(batch.size()) < take;) {
        if (it->ready_at <= now) {
          batch.push_back(std::move(*it));
          it = retry.erase(it);
        } else {
          ++it;
        }
      }
      while (static_cast<int>(batch.size()) < take) {
        batch.push_back(std::move(fresh.front()));
        fresh.pop_front();
      }
      in_calls += take;
      ++calls_running;
      ++stats.calls;
      const uint64_t id = next_call++;
      calls[id] = Spawn(*loop, RunCall(shared_from_this(), id, std::move(batch)));
    }
    if (next_retry != absl::InfiniteFuture() && !retry_timer.pending()) {
      retry_timer = loop->CallAt(next_retry, [core = shared_from_this()] { core->Pump(); });
    }
    MaybeFinish();
  }

  void MaybeFinish() {
    if ((closed || cancelled) && fresh.empty() && retry.empty() && in_calls == 0) results.Close();
  }

  static Task<void> RunCall(std::shared_ptr<Core> core, uint64_t id, std::vector<Pending> batch) {
    v1::FetchManyRequest request;
    for (const Pending& p : batch) *request.add_requests() = p.item.request;
    request.set_max_concurrency(static_cast<int>(batch.size()));
    std::unique_ptr<FetchManyCall> call =
        core->client.FetchMany(std::move(request), core->options.call);
    std::vector<bool> answered(batch.size(), false);
    size_t left = batch.size();
    absl::Status call_status;
    // The call ended cleanly but left items unanswered: the server answered them with
    // something that did not parse (or it is broken). Another server would answer the same:
    // a poison pill, not a dead server, so those items are not sent again.
    bool poisoned = false;
    while (left > 0) {
      absl::StatusOr<std::optional<v1::FetchResponse>> next = co_await call->Next();
      if (!next.ok()) {
        call_status = next.status();
        break;
      }
      if (!next->has_value()) {
        call_status = absl::InternalError(absl::StrCat(
            "fetch service: the call ended with ", left,
            " requests unanswered (their answers did not parse)"));
        poisoned = true;
        break;
      }
      v1::FetchResponse& r = **next;
      const int i = r.index();
      if (i < 0 || i >= static_cast<int>(batch.size()) || answered[i]) continue;
      answered[i] = true;
      --left;
      --core->in_calls;
      FetchStreamResult result;
      result.id = batch[i].item.id;
      result.attempts = batch[i].attempts + 1;
      result.server = call->server();
      if (r.has_error()) {
        result.status = absl::Status(static_cast<absl::StatusCode>(r.error().code()),
                                     r.error().message());
      }
      result.response = std::move(r);
      ++core->stats.answered_by_server[result.server];
      core->Deliver(std::move(result));
      core->Pump();
    }
    if (left == 0) {
      // Let the call end on its own (OK) rather than cancel it.
      absl::StatusOr<std::optional<v1::FetchResponse>> end = co_await call->Next();
      (void)end;
    } else {
      ++core->stats.failed_calls;
      const std::string server = call->server();
      for (size_t i = 0; i < batch.size(); ++i) {
        if (answered[i]) continue;
        Pending& p = batch[i];
        --core->in_calls;
        ++p.attempts;
        if (core->cancelled) {
          core->Fail(p, absl::CancelledError("fetch stream cancelled"), server);
        } else if (poisoned || !Retriable(call_status)) {
          core->Fail(p, call_status, server);
        } else if (p.attempts >= core->options.max_attempts) {
          core->Fail(p,
                     absl::Status(call_status.code(),
                                  absl::StrCat(call_status.message(), " (after ", p.attempts,
                                               " calls to the fetch service)")),
                     server);
        } else if (!Idempotent(p.item.request.method()) && !core->options.retry_non_idempotent) {
          core->Fail(p,
                     absl::Status(call_status.code(),
                                  absl::StrCat(call_status.message(), " (", p.item.request.method(),
                                               " is not idempotent: not sent again)")),
                     server);
        } else {
          p.ready_at = core->loop->Now() + core->Backoff(p.attempts);
          ++core->stats.retried_items;
          core->retry.push_back(std::move(p));
        }
      }
    }
    call.reset();
    --core->calls_running;
    // This task's handle goes once the task has ended (the next turn).
    core->loop->CallSoon([core, id] { core->calls.erase(id); });
    core->Pump();
    core->MaybeFinish();
  }

  FetchClient& client;
  FetchStreamOptions options;
  EventLoop* loop;

  std::deque<Pending> fresh;  // never sent
  std::deque<Pending> retry;  // sent before; wait for ready_at
  int in_calls = 0;           // items in calls in flight, not yet answered
  int calls_running = 0;
  uint64_t next_call = 0;
  absl::flat_hash_map<uint64_t, JoinHandle<void>> calls;
  TimerHandle retry_timer;
  Queue<FetchStreamResult> results;  // unbounded; the caller bounds what it pushes
  bool closed = false;
  bool cancelled = false;
  FetchStreamStats stats;
};

}  // namespace fetch_stream_internal

using fetch_stream_internal::Core;
using fetch_stream_internal::Pending;

FetchStream::FetchStream(FetchClient& client, FetchStreamOptions options)
    : core_(std::make_shared<Core>(client, std::move(options))) {}

FetchStream::~FetchStream() { Cancel(); }

void FetchStream::Push(FetchStreamItem item) {
  ++core_->stats.items;
  Pending p;
  p.item = std::move(item);
  if (core_->cancelled || core_->closed) {
    core_->Fail(p, absl::CancelledError(core_->cancelled ? "fetch stream cancelled"
                                                         : "fetch stream closed"),
                "");
    return;
  }
  core_->fresh.push_back(std::move(p));
  core_->Pump();
}

void FetchStream::Close() {
  core_->closed = true;
  core_->MaybeFinish();
}

void FetchStream::Cancel() {
  if (core_->cancelled) return;
  core_->cancelled = true;
  core_->retry_timer.Cancel();
  for (auto& [id, handle] : core_->calls) handle.Cancel();
  for (Pending& p : core_->fresh) core_->Fail(p, absl::CancelledError("fetch stream cancelled"), "");
  for (Pending& p : core_->retry) core_->Fail(p, absl::CancelledError("fetch stream cancelled"), "");
  core_->fresh.clear();
  core_->retry.clear();
  core_->MaybeFinish();
}

Task<absl::StatusOr<std::optional<FetchStreamResult>>> FetchStream::Next() {
  std::shared_ptr<Core> core = core_;
  absl::StatusOr<FetchStreamResult> r = co_await core->results.Get();
  if (!r.ok()) {
    if (absl::IsOutOfRange(r.status())) co_return std::nullopt;  // closed and drained
    co_return r.status();
  }
  ++core->stats.results;
  co_return std::optional<FetchStreamResult>(*std::move(r));
}

FetchStreamStats FetchStream::stats() const { return core_->stats; }

}  // namespace corio::fetch
