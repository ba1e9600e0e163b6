// FetchStream: many fetches through the fetch service — items in, results out — spread over
// every server of the client's target, with per-item retry when a server dies mid-run. What
// `fetch --server=TARGET` runs on.
//
//   FetchStream stream(*client, {.concurrency = 64});   // on a loop
//   stream.Push({.id = 0, .request = req0});             // as input arrives (never blocks)
//   stream.Push({.id = 1, .request = req1});
//   stream.Close();                                      // no more items
//   for (;;) {
//     CORIO_CO_ASSIGN_OR_RETURN(std::optional<FetchStreamResult> r, co_await stream.Next());
//     if (!r.has_value()) break;                         // every item answered
//     ... r->id, r->status, r->response, r->server ...
//   }
//
// How: items are sent in FetchMany calls of up to `batch_size` (each call's items run
// concurrently on its server), with at most `concurrency` items in calls at once; gRPC's
// round_robin puts successive calls on successive servers. Every item gets exactly one result:
// - the server answered it: its response (status OK), or its fetch's error (status = the
//   item's error code and message; `response` may hold what was known); an answer that does
//   not parse (e.g. a string field that is not UTF-8) is INTERNAL for that item alone, never
//   sent again (another server would answer the same);
// - its call failed before answering it (the server died or shut down: UNAVAILABLE,
//   CANCELLED by the server, RESOURCE_EXHAUSTED when busy, UNKNOWN/INTERNAL/ABORTED): it is
//   sent again in a new call — so to another server when one is left — after a backoff, up to
//   `max_attempts` calls; then, or at once for other call errors (UNAUTHENTICATED,
//   INVALID_ARGUMENT, ...), its result is that call error; a call that ends cleanly without
//   answering an item (its answer did not parse) fails it with INTERNAL, not sent again.
//   Items with a non-idempotent method (POST, PATCH) are not sent again unless
//   `retry_non_idempotent`: the server may have fetched them before it died.
// - the stream is cancelled (Cancel, or destroyed): CANCELLED.
// Results come in completion order. A retried item may have been fetched twice (at least
// once delivery); its result is the first answer.
//
// Completion contract: Next resumes once, on the loop's thread: with a result as soon as one
// is ready (possibly without suspending), nullopt once Close() was called and every item has
// its result, CANCELLED if the awaiting task is cancelled (no result is lost: it stays
// queued).
// Threading: the stream belongs to the loop that created it: Push, Close, Next, Cancel and
// stats on that loop's thread. The FetchClient may be shared with other loops.
// Ownership: the client must outlive the stream. Destroying the stream cancels its calls.
// The caller bounds how many items it pushes ahead of the results it takes (a fetch command
// holds one permit per URL); the stream queues what it is given.
#ifndef CORIO_NET_FETCH_FETCH_STREAM_H_
#define CORIO_NET_FETCH_FETCH_STREAM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/fetch/client.h"
#include "net/fetch/fetch.pb.h"
#include "tasks/task.h"

namespace corio::fetch {

struct FetchStreamOptions {
  int concurrency = 64;  // items in calls at once, across every server
  int batch_size = 16;   // items per FetchMany call (at most concurrency)
  int max_attempts = 4;  // calls an item may go through
  absl::Duration retry_backoff = absl::Milliseconds(50);  // doubles per attempt...
  absl::Duration max_retry_backoff = absl::Seconds(2);     // ...up to this
  bool retry_non_idempotent = false;
  CallOptions call;  // each FetchMany call's options (deadline, wait_for_ready)
};

struct FetchStreamItem {
  uint64_t id = 0;  // the caller's; results carry it back
  v1::FetchRequest request;
};

struct FetchStreamResult {
  uint64_t id = 0;
  // OK: `response` is the HTTP response (any HTTP status). Otherwise why this item failed:
  // its fetch's error (e.g. PERMISSION_DENIED, DEADLINE_EXCEEDED) or its calls' error.
  absl::Status status;
  v1::FetchResponse response;
  std::string server;  // the replica that answered (or whose call failed last); may be empty
  int attempts = 0;    // calls the item went through
};

struct FetchStreamStats {
  int64_t items = 0;            // pushed
  int64_t results = 0;          // delivered to Next
  int64_t calls = 0;            // FetchMany calls started
  int64_t failed_calls = 0;     // calls that ended with an error
  int64_t retried_items = 0;    // items sent again after a failed call
  std::map<std::string, int64_t> answered_by_server;  // items a server answered
};

namespace fetch_stream_internal {
struct Core;
}

class FetchStream {
 public:
  FetchStream(FetchClient& client, FetchStreamOptions options = {});
  ~FetchStream();
  FetchStream(const FetchStream&) = delete;
  FetchStream& operator=(const FetchStream&) = delete;

  void Push(FetchStreamItem item);
  void Close();
  Task<absl::StatusOr<std::optional<FetchStreamResult>>> Next();
  // Every item without a result gets CANCELLED; calls in flight are cancelled.
  void Cancel();
  FetchStreamStats stats() const;

 private:
  std::shared_ptr<fetch_stream_internal::Core> core_;
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_FETCH_STREAM_H_
