// FetchClient: corio's client of the fetch service (corio.fetch.v1.FetchService), awaitable
// from corio tasks. Calls run on gRPC's callback API — no thread is blocked per call — and
// complete on the loop that started them. One client (one gRPC channel) serves any number of
// loops and calls; with a target naming several servers, calls are balanced round robin.
//
//   CORIO_ASSIGN_OR_RETURN(auto client, corio::fetch::FetchClient::Create(
//       {.target = "ipv4:127.0.0.1:50051,127.0.0.2:50051"}));
//   // In a task:
//   v1::FetchRequest req;
//   req.set_url("https://example.com/");
//   absl::StatusOr<v1::FetchResponse> r = co_await client->Fetch(req);
//
//   std::unique_ptr<FetchManyCall> call = client->FetchMany(many);
//   for (;;) {
//     CORIO_CO_ASSIGN_OR_RETURN(std::optional<v1::FetchResponse> next, co_await call->Next());
//     if (!next.has_value()) break;            // every request answered
//     ... next->index(), next->error() ...
//   }
//
// Targets: any gRPC target — "host:port", "ipv4:a:p,b:q", "ipv6:[::1]:p", "dns:///name:port"
// (every address of the name), "dns://DNS_SERVER:PORT/name:port". The channel's service config
// selects round_robin (Options::load_balancing), so successive calls go to successive servers
// and a server that goes away is skipped.
//
// Completion contract: Fetch and Next resume once, on the thread of the loop that started the
// call, on a later turn (never inline). Cancelling the awaiting task resumes it at once with
// CANCELLED and cancels the gRPC call (ClientContext::TryCancel); the call's buffers live on
// until gRPC is done with them. If the loop is destroyed first, late completions are dropped.
// Threading: FetchClient is thread-safe; Fetch and FetchMany are called on a thread running
// an EventLoop; a FetchManyCall belongs to that loop.
// Ownership: the client must outlive the calls awaited on it; destroying it cancels the calls
// still running and waits for gRPC to finish them. Destroying a FetchManyCall cancels the
// call if it is still running.
// Errors: Fetch fails with the fetch's error (IsFetchFailure: the server tried and the fetch
// failed, e.g. PERMISSION_DENIED for a refused address) or the call's (UNAVAILABLE when no
// server is reachable, UNAUTHENTICATED, RESOURCE_EXHAUSTED when the server is busy,
// INVALID_ARGUMENT, DEADLINE_EXCEEDED, CANCELLED; INTERNAL when the response does not parse,
// e.g. a string field that is not UTF-8). Next fails with the call's error; a response that
// does not parse is a response of its own with `error` INTERNAL (for the request its index
// names; one without a readable index is skipped), and the call goes on.
// Create fails with INVALID_ARGUMENT for an empty target or unreadable TLS files.
#ifndef CORIO_NET_FETCH_CLIENT_H_
#define CORIO_NET_FETCH_CLIENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "tasks/task.h"

namespace corio::fetch {

namespace client_internal {
struct StreamState;
struct Calls;
struct RawMethods;
}

struct FetchClientOptions {
  std::string target;
  // "round_robin" (default), or "" for gRPC's default (pick_first: one server at a time).
  std::string load_balancing = "round_robin";
  // TLS to the servers: off unless `tls` or a CA file is given.
  bool tls = false;
  std::string tls_ca_file;      // PEM roots; empty with `tls`: the system's
  std::string tls_server_name;  // expected name in the servers' certificates, if not the target's
  std::string bearer_token;     // sent as `authorization: Bearer <token>`
  // Largest response message accepted (a FetchResponse with its body).
  int max_receive_message_bytes = 256 << 20;
};

// Per-call options.
struct CallOptions {
  absl::Duration timeout = absl::InfiniteDuration();  // the call's deadline, from now
  // Wait for a server to become reachable instead of failing UNAVAILABLE at once.
  bool wait_for_ready = false;
};

class FetchManyCall;

class FetchClient {
 public:
  static absl::StatusOr<std::unique_ptr<FetchClient>> Create(FetchClientOptions options);
  // Cancels the calls still running and waits until gRPC has finished each of them (so that
  // the channel is never released on one of gRPC's own threads). Not on a gRPC thread.
  ~FetchClient();
  FetchClient(const FetchClient&) = delete;
  FetchClient& operator=(const FetchClient&) = delete;

  Task<absl::StatusOr<v1::FetchResponse>> Fetch(v1::FetchRequest request, CallOptions call = {});
  // Starts the call now (on the current loop).
  std::unique_ptr<FetchManyCall> FetchMany(v1::FetchManyRequest request, CallOptions call = {});

  const FetchClientOptions& options() const { return options_; }
  grpc::Channel& channel() { return *channel_; }

 private:
  FetchClient() = default;
  void SetUp(grpc::ClientContext& context, const CallOptions& call) const;

  FetchClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  // The methods, called with responses read as bytes (so that one that does not parse is an
  // error this client reports, not a message gRPC drops).
  std::unique_ptr<client_internal::RawMethods> methods_;
  std::shared_ptr<client_internal::Calls> calls_;  // the calls gRPC has not finished yet
};

// A running FetchMany call: its responses, in the order the server sends them.
class FetchManyCall {
 public:
  ~FetchManyCall();
  FetchManyCall(const FetchManyCall&) = delete;
  FetchManyCall& operator=(const FetchManyCall&) = delete;

  // The next response; nullopt when the call ended cleanly; the call's error when it failed
  // (after the responses that did arrive). One Next at a time.
  Task<absl::StatusOr<std::optional<v1::FetchResponse>>> Next();
  // Cancels the call (Next then fails with CANCELLED). Any thread.
  void Cancel();
  // The replica serving the call (its `corio-fetch-server` metadata); empty until the first
  // response or the end of the call, or when the server does not say.
  const std::string& server() const;

 private:
  friend class FetchClient;
  explicit FetchManyCall(std::shared_ptr<client_internal::StreamState> state)
      : state_(std::move(state)) {}
  std::shared_ptr<client_internal::StreamState> state_;
};

// True when `status` is a fetch that the server tried and that failed (Fetch's failures
// carry a mark), as opposed to a failed call.
bool IsFetchFailure(const absl::Status& status);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_CLIENT_H_
