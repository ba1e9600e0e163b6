#include "net/fetch/server.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "net/fetch/health.pb.h"

namespace corio::fetch {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& what, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int e = errno;
    const std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(msg);
    if (e == EACCES) return absl::PermissionDeniedError(msg);
    return absl::UnavailableError(msg);
  }
  std::string data;
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::UnavailableError(absl::StrCat(what, " ", path, ": read failed"));
  return data;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const FetchServerOptions& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  absl::StatusOr<std::string> cert = ReadFile("tls certificate", o.tls_cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("tls key", o.tls_key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

// "127.0.0.2:41234" for a listen address "127.0.0.2:0"; "<hostname>:50051" for "[::]:50051".
std::string DefaultName(const std::string& listen_address, int port) {
  std::string host = listen_address.substr(0, listen_address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) == 0) host = name;
  }
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<FetchServer>> FetchServer::Start(FetchServerOptions options) {
  if (!options.backend) return absl::InvalidArgumentError("fetch server: no backend");
  if (options.max_concurrent_fetches < 1) {
    return absl::InvalidArgumentError(absl::StrCat("fetch server: max_concurrent_fetches ",
                                                   options.max_concurrent_fetches, " < 1"));
  }
  if (options.threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("fetch server: threads ", options.threads, " < 0"));
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = Credentials(options);
  if (!creds.ok()) return creds.status();

  std::unique_ptr<FetchServer> s(new FetchServer);
  LoopGroup::Options lo;
  lo.threads = options.threads;
  absl::StatusOr<std::unique_ptr<LoopGroup>> group = LoopGroup::Create(lo);
  if (!group.ok()) return group.status();
  s->group_ = *std::move(group);
  Dispatcher::Options dopt;
  dopt.max_concurrent_fetches = options.max_concurrent_fetches;
  absl::StatusOr<std::unique_ptr<Dispatcher>> d =
      Dispatcher::Create(*s->group_, std::move(options.backend), dopt);
  if (!d.ok()) return d.status();
  s->dispatcher_ = *std::move(d);
  s->service_ = std::make_unique<FetchServiceImpl>(*s->dispatcher_, options.service);

  // Process-wide switches, read when a server is built: grpc.health.v1 (gRPC's own service)
  // and server reflection.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // gRPC's health service does not use protobuf's descriptors, so nothing would pull
  // health.proto's into the binary and reflection could list grpc.health.v1.Health but not
  // describe it. Referencing a descriptor links (and registers) the file.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second server "bind" a port in use.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   std::min(options.max_connection_age, absl::Hours(500)))));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(std::min(
                                   options.max_connection_age_grace, absl::Hours(500)))));
  }
  builder.SetMaxSendMessageSize(-1);
  builder.AddListeningPort(options.listen_address, *creds, &s->port_);
  builder.RegisterService(s->service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->server_.reset();
    return absl::UnavailableError(
        absl::StrCat("fetch server: cannot listen on ", options.listen_address));
  }
  s->name_ = options.server_name;
  if (s->name_.empty()) s->name_ = DefaultName(options.listen_address, s->port_);
  s->service_->SetServerName(s->name_);
  // Overall ("") and by name (Kubernetes probes and gRPC clients may name the service).
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  s->server_->GetHealthCheckService()->SetServingStatus(v1::FetchService::service_full_name(),
                                                        true);
  return s;
}

FetchServer::~FetchServer() { Shutdown(absl::ZeroDuration()); }

void FetchServer::Shutdown(absl::Duration grace) {
  std::call_once(shutdown_once_, [&] {
    if (server_ != nullptr) {
      const absl::Time deadline = absl::Now() + grace;
      // Health answers NOT_SERVING (a Check, not only a Watch) while the calls in flight
      // drain; new calls fail UNAVAILABLE meanwhile (clients go to other replicas).
      server_->GetHealthCheckService()->SetServingStatus(false);
      service_->StartDraining();
      service_->WaitForCalls(deadline);
      // Stops taking calls and connections, cancels what is still in flight (their reactors
      // finish at once), and returns when every call is done.
      server_->Shutdown(absl::ToChronoTime(std::min(deadline, absl::Now())));
      server_->Wait();
    }
    if (dispatcher_ != nullptr) dispatcher_->Stop();
    if (group_ != nullptr) group_->Shutdown(LoopGroup::kDrain);
  });
}

}  // namespace corio::fetch
