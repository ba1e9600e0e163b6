// FetchServiceImpl: corio.fetch.v1.FetchService on gRPC's callback API, its fetches run as
// corio tasks on a LoopGroup (through a Dispatcher). No thread is blocked per call: a call's
// handler validates it, reserves fetch slots and hands its fetches to the loops; the loops
// hand results back by calling the call's reactor (Finish / StartWrite), under the call's lock.
//
//   auto dispatcher = corio::fetch::Dispatcher::Create(*group, factory, {}).value();
//   corio::fetch::FetchServiceImpl service(*dispatcher, {.bearer_token = "s3cret"});
//   grpc::ServerBuilder builder;
//   builder.RegisterService(&service);
//
// Behaviour (see fetch.proto for the wire contract):
// - Fetch: one fetch; an HTTP response of any status is OK; a failed fetch fails the call with
//   its code and message and the trailing metadata `corio-fetch-error: 1`.
// - FetchMany: every request gets one FetchResponse, streamed as it completes (its index set;
//   a failed or malformed request is a response with `error`). At most `max_concurrency`
//   (default `default_call_concurrency`, capped by `max_call_concurrency`) fetches of a call run
//   at once, and no more results wait unsent than that (a slow reader slows its call down, it
//   does not grow the server's memory).
// - Admission: the dispatcher's slots bound the fetches in flight on the server. A call that
//   cannot get a single slot fails with RESOURCE_EXHAUSTED. A slot is held only while a fetch
//   runs: a FetchMany whose results wait for a slow (or stalled) reader holds none. A FetchMany
//   takes a slot for each fetch it starts (up to its concurrency); when it has none running and
//   none is free, it waits for one (Dispatcher::ReserveOrWait), ahead of new calls.
// - Deadlines and cancellation: each fetch's deadline is the earlier of its timeout and the
//   call's deadline. When the client cancels or its deadline passes (gRPC's OnCancel), the
//   call is finished at once and its fetches are cancelled on their loops (their connections
//   closed); their slots come back as each fetch ends. A FetchMany whose last fetches ended
//   at its deadline before gRPC noticed it still ends DEADLINE_EXCEEDED, not OK.
// - Draining (FetchServer::Shutdown): after StartDraining, new calls fail with UNAVAILABLE
//   ("shutting down": clients go to another replica) while admitted calls go on;
//   WaitForCalls waits for them.
// - Auth: with a bearer token set, a call without `authorization: Bearer <token>` (the scheme
//   in any case) fails with UNAUTHENTICATED; tokens are compared by their SHA-256 digests (see
//   bearer_token.h).
//
// Threading: gRPC calls the handlers and reactions on its threads; results arrive on loop
// threads. Each call's state is guarded by its own mutex, which is also held around the
// reactor operations (StartWrite, Finish; gRPC never runs a reaction inline in them) and taken
// by every reaction: so a write started on one loop thread and completed on a gRPC thread is
// ordered before the next write from another loop thread, in a way ThreadSanitizer can see
// (Debian's gRPC is not instrumented). The first StartWrite/Finish from a loop waits until
// gRPC has bound the reactor (after its initial metadata went out), so no reactor method races
// gRPC's own setup.
// Ownership: the service must outlive the grpc::Server it is registered with; the dispatcher
// must outlive the service and be stopped only after the server has shut down.
#ifndef CORIO_NET_FETCH_SERVICE_H_
#define CORIO_NET_FETCH_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "net/fetch/bearer_token.h"
#include "net/fetch/dispatcher.h"
#include "net/fetch/fetch.grpc.pb.h"

namespace corio::fetch {

struct FetchServiceOptions {
  std::string bearer_token;            // empty: no authentication
  // Sent to clients in every call's initial metadata as `corio-fetch-server` (which replica
  // served the call; clients count work per server with it). Empty: not sent.
  std::string server_name;
  int default_call_concurrency = 32;   // FetchMany with max_concurrency 0
  int max_call_concurrency = 256;      // cap on a FetchMany's max_concurrency
  int max_requests_per_call = 100000;  // FetchMany requests per call
};

class FetchServiceImpl final : public v1::FetchService::CallbackService {
 public:
  FetchServiceImpl(Dispatcher& dispatcher, FetchServiceOptions options);

  grpc::ServerUnaryReactor* Fetch(grpc::CallbackServerContext* context,
                                  const v1::FetchRequest* request,
                                  v1::FetchResponse* response) override;
  grpc::ServerWriteReactor<v1::FetchResponse>* FetchMany(
      grpc::CallbackServerContext* context, const v1::FetchManyRequest* request) override;

  Dispatcher& dispatcher() { return dispatcher_; }
  const FetchServiceOptions& options() const { return options_; }

  // OK, or UNAUTHENTICATED when a token is required and `context` lacks it.
  absl::Status Authenticate(const grpc::CallbackServerContext& context) const;

  // Sets the name sent as `corio-fetch-server` (once the server knows its port); any thread,
  // at most once. Calls that arrive before it carry options().server_name, if any.
  void SetServerName(std::string name);
  // Adds the `corio-fetch-server` initial metadata to a call.
  void NameServer(grpc::CallbackServerContext& context) const;

  // Draining (a graceful shutdown): from now on new calls fail with UNAVAILABLE, while the
  // calls already admitted go on. Any thread.
  void StartDraining();
  // Blocks until no admitted call is left (gRPC has finished each: OnDone) or `deadline`;
  // false at the deadline. Any thread but gRPC's and the loops'.
  bool WaitForCalls(absl::Time deadline);

  // For the calls: EnterCall is false when draining (the call is refused, not admitted);
  // an admitted call calls ExitCall once, from OnDone.
  bool EnterCall();
  void ExitCall();

 private:
  Dispatcher& dispatcher_;
  FetchServiceOptions options_;
  BearerToken token_;
  std::unique_ptr<const std::string> late_name_;   // owns what late_name_ptr_ points to
  std::atomic<const std::string*> late_name_ptr_{nullptr};

  std::mutex calls_mu_;
  std::condition_variable calls_cv_;
  int calls_ = 0;          // admitted, not yet done (guarded by calls_mu_)
  bool draining_ = false;  // guarded by calls_mu_
};

// absl::Status <-> grpc::Status (the codes are the same numbers; ToGrpcStatus makes the
// message valid UTF-8, see utf8.h).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// The trailing metadata key that marks a failed fetch (as opposed to a failed call).
inline constexpr char kFetchErrorTrailer[] = "corio-fetch-error";
// The initial metadata key naming the replica that served a call.
inline constexpr char kFetchServerHeader[] = "corio-fetch-server";

// The deadline of a call as absl::Time (InfiniteFuture when it has none).
absl::Time CallDeadline(const grpc::ServerContextBase& context);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_SERVICE_H_
