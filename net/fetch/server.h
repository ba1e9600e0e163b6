// FetchServer: a running fetch service — a gRPC server on one port with FetchService, the
// grpc.health.v1 health service and server reflection, its fetches on a LoopGroup of its own.
// cmd/fetch_server is a thin main over this; tests start it on port 0.
//
//   corio::fetch::FetchServerOptions o;
//   o.listen_address = "[::]:50051";
//   o.threads = 2;
//   o.backend = corio::fetch::HttpBackendFactory(http_options);   // what a fetch does
//   CORIO_ASSIGN_OR_RETURN(auto server, corio::fetch::FetchServer::Start(std::move(o)));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(10));   // on SIGTERM
//
// Shutdown (graceful): health turns NOT_SERVING, and keeps answering so (Check and Watch)
// while calls in flight get up to `grace` to finish; new Fetch/FetchMany calls meanwhile fail
// UNAVAILABLE (clients move to other replicas). Then the gRPC server shuts down: it stops
// taking connections and cancels the calls still in flight (their fetches with them); then the
// fetches' loops stop.
// Threading: Start, port and Shutdown from any thread that is not one of the server's loops
// or gRPC's threads (Shutdown blocks).
// Ownership: the server owns its LoopGroup, dispatcher, service and gRPC server; destroying it
// shuts down with no grace.
// Errors: Start fails with INVALID_ARGUMENT for bad options, NOT_FOUND / PERMISSION_DENIED for
// unreadable TLS files, UNAVAILABLE when the address cannot be bound, and the backend
// factory's errors.
#ifndef CORIO_NET_FETCH_SERVER_H_
#define CORIO_NET_FETCH_SERVER_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "loop/loop_group.h"
#include "net/fetch/backend.h"
#include "net/fetch/dispatcher.h"
#include "net/fetch/service.h"

namespace corio::fetch {

struct FetchServerOptions {
  // gRPC listen address: "[::]:50051", "127.0.0.2:0" (port 0: the kernel picks one).
  std::string listen_address = "[::]:50051";
  int threads = 0;  // loops of the fetch LoopGroup; 0: one per core
  int max_concurrent_fetches = 1000;
  FetchServiceOptions service;
  BackendFactory backend;  // required
  // TLS for the server's own port: PEM files of its certificate chain and private key (both
  // or neither).
  std::string tls_cert_file;
  std::string tls_key_file;
  // The replica's name in calls' initial metadata (see FetchServiceOptions::server_name).
  // Empty: "<listen host>:<port>", or "<hostname>:<port>" when listening on every address.
  std::string server_name;
  // Close each client connection after this long (GOAWAY; calls in flight get
  // `max_connection_age_grace`), so clients reconnect and re-resolve DNS names: behind a
  // headless Service, new replicas then get work. Zero: never.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Seconds(30);
  // Largest request message (a FetchMany with its bodies), bytes.
  int max_receive_message_bytes = 64 << 20;
};

class FetchServer {
 public:
  static absl::StatusOr<std::unique_ptr<FetchServer>> Start(FetchServerOptions options);
  ~FetchServer();
  FetchServer(const FetchServer&) = delete;
  FetchServer& operator=(const FetchServer&) = delete;

  int port() const { return port_; }
  const std::string& name() const { return name_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  LoopGroup& loops() { return *group_; }
  // Idempotent; blocks until everything has stopped.
  void Shutdown(absl::Duration grace);

 private:
  FetchServer() = default;

  std::unique_ptr<LoopGroup> group_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<FetchServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string name_;
  std::once_flag shutdown_once_;
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_SERVER_H_
