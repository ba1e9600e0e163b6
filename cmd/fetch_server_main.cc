// fetch_server: corio's gRPC fetch service (corio.fetch.v1.FetchService), with grpc.health.v1
// and server reflection. See `fetch_server --help`.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT: stop taking calls, let those in
// flight finish within --shutdown_grace, then cancel them); 1 when the server cannot start
// (the port is taken, a TLS file is unreadable); 2 on a usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "net/fetch/address_policy.h"
#include "net/fetch/http_backend.h"
#include "net/fetch/server.h"

ABSL_FLAG(std::string, host, "::",
          "IP address to listen on: \"::\" (every address, IPv6 and IPv4), \"0.0.0.0\", "
          "\"127.0.0.1\", ...");
ABSL_FLAG(int, port, 50051, "Port to listen on (0: the kernel picks one; printed at start).");
ABSL_FLAG(int, threads, 0, "Event loops running fetches (0: one per core).");
ABSL_FLAG(int, max_concurrent_fetches, 1000,
          "Fetches in flight on this server; calls past it fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, call_concurrency, 32,
          "Fetches in flight per FetchMany call when the call does not say (at most 256).");
ABSL_FLAG(bool, allow_private_networks, false,
          "Also fetch from loopback, private (RFC 1918, ULA), link-local, CGNAT and other "
          "non-public unicast addresses. Off by default: this server fetches for others "
          "(SSRF). Multicast, broadcast and unspecified addresses stay refused.");
ABSL_FLAG(std::vector<std::string>, allow_cidr, {},
          "Comma-separated CIDRs to fetch from even though they are not public, e.g. "
          "10.1.0.0/16,fd00:1::/32.");
ABSL_FLAG(std::vector<std::string>, deny_cidr, {},
          "Comma-separated CIDRs never to fetch from, even public ones (checked first).");
ABSL_FLAG(int64_t, max_body_bytes, 16 << 20,
          "Largest decoded response body a fetch reads (RESOURCE_EXHAUSTED past it).");
ABSL_FLAG(absl::Duration, default_timeout, absl::Seconds(30),
          "Total time of a fetch whose request sets no timeout.");
ABSL_FLAG(absl::Duration, max_timeout, absl::Minutes(5), "Longest total time of any fetch.");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10),
          "DNS + TCP + TLS time of each connection a fetch opens.");
ABSL_FLAG(int, max_redirects, 10, "Redirects a fetch follows at most.");
ABSL_FLAG(std::string, cacert, "",
          "PEM file of CAs to trust for https fetches instead of the system store.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain for TLS on this server's own port (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert.");
ABSL_FLAG(std::string, bearer_token_file, "",
          "File holding the bearer token clients must send (`authorization: Bearer <token>`); "
          "calls without it fail with UNAUTHENTICATED. The health service stays open.");
ABSL_FLAG(std::string, bearer_token, "",
          "The bearer token itself (visible in the process list: prefer --bearer_token_file).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT: how long calls in flight may take to finish before they are "
          "cancelled.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Close client connections after this long (calls in flight get 30s more), so that "
          "clients re-resolve DNS names and spread over new replicas (0: never). Behind a "
          "Kubernetes headless Service: e.g. 5m.");
ABSL_FLAG(std::string, server_name, "",
          "This replica's name in each call's `corio-fetch-server` metadata (default: "
          "host:port).");

namespace {

constexpr char kUsage[] = R"(fetch_server: fetch URLs for gRPC clients (corio.fetch.v1.FetchService).

  fetch_server --port=50051
  fetch_server --port=50051 --tls_cert=server.pem --tls_key=server.key \
               --bearer_token_file=/run/secrets/fetch-token
  fetch_server --host=127.0.0.1 --port=0 --allow_private_networks   # tests, trusted networks

Then, from corio's fetch command:
  fetch --server=localhost:50051 https://example.com/
  fetch --server=dns:///fetch.example.internal:50051 --input=urls.txt   # every replica

It serves grpc.health.v1.Health (SERVING until shutdown) and server reflection. By default
it refuses to fetch from non-public addresses (checked on every resolved address, redirects
included): see --allow_private_networks, --allow_cidr and --deny_cidr.
)";

// A usage error: one line (the mistake, and where to read about the flags), exit 2. Control
// characters from the user's values are escaped, so that it stays one line.
int UsageError(const std::string& message) {
  std::string line;
  for (const char c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(&line, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      line.push_back(c);
    }
  }
  std::fprintf(stderr, "fetch_server: %s (see fetch_server --help)\n", line.c_str());
  return 2;
}

// An IP address literal to listen on ("::", "0.0.0.0", "127.0.0.1", "[::1]"), without its
// brackets; empty when `host` is not one (gRPC would try to resolve it, and fail with a log).
std::string ListenHost(absl::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string h(host);
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1 || inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return h;
  }
  return "";
}

// Abseil's ParseCommandLine exits 1 on a usage error; this one reports and returns it (exit
// 2), and takes no positional arguments.
std::string ParseFlags(int argc, char** argv, bool* help) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") {
      *help = true;
      return "";
    }
    if (!absl::StartsWith(arg, "-") || arg == "-" || arg == "--") {
      return absl::StrCat("unexpected argument \"", arg, "\": fetch_server takes only flags");
    }
    absl::string_view body = absl::StripPrefix(absl::StripPrefix(arg, "-"), "-");
    const size_t eq = body.find('=');
    std::string name(body.substr(0, eq));
    std::string value;
    bool has_value = eq != absl::string_view::npos;
    if (has_value) value = std::string(body.substr(eq + 1));
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        name = name.substr(2);
        value = "false";
        has_value = true;
      }
    }
    if (flag == nullptr || flag->Filename().find("fetch_server") == std::string::npos) {
      return absl::StrCat("unknown flag --", name);
    }
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::StrCat("--", name, " needs a value");
      }
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::StrCat("--", name, "=", value, ": ", error);
    }
  }
  return "";
}

std::string ReadToken(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = absl::StrCat("--bearer_token_file=", path, ": cannot read it");
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) *error = absl::StrCat("--bearer_token_file=", path, ": empty");
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  bool help = false;
  const std::string parse_error = ParseFlags(argc, argv, &help);
  if (help) {
    std::fputs(absl::ProgramUsageMessage().data(), stdout);
    std::fputs("\nFlags:\n", stdout);
    for (const auto& [name, flag] : absl::GetAllFlags()) {
      if (flag->Filename().find("fetch_server") == std::string::npos) continue;
      std::printf("  --%s (default: %s)\n      %s\n", std::string(name).c_str(),
                  flag->DefaultValue().c_str(), flag->Help().c_str());
    }
    return 0;
  }
  if (!parse_error.empty()) return UsageError(parse_error);

  const std::string host = ListenHost(absl::GetFlag(FLAGS_host));
  if (host.empty()) {
    return UsageError(absl::StrCat("--host=", absl::GetFlag(FLAGS_host),
                                   ": not an IP address (e.g. ::, 0.0.0.0, 127.0.0.1)"));
  }
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) return UsageError(absl::StrCat("--port=", port, ": not a port"));
  if (absl::GetFlag(FLAGS_threads) < 0) return UsageError("--threads: must be >= 0");
  if (absl::GetFlag(FLAGS_max_concurrent_fetches) < 1) {
    return UsageError("--max_concurrent_fetches: must be >= 1");
  }
  const int call_concurrency = absl::GetFlag(FLAGS_call_concurrency);
  if (call_concurrency < 1 || call_concurrency > 256) {
    return UsageError("--call_concurrency: must be in 1..256");
  }
  if (absl::GetFlag(FLAGS_max_body_bytes) < 1) return UsageError("--max_body_bytes: must be >= 1");
  if (absl::GetFlag(FLAGS_max_redirects) < 0) return UsageError("--max_redirects: must be >= 0");
  for (absl::Duration d : {absl::GetFlag(FLAGS_default_timeout), absl::GetFlag(FLAGS_max_timeout),
                           absl::GetFlag(FLAGS_connect_timeout)}) {
    if (d <= absl::ZeroDuration()) return UsageError("timeouts must be positive");
  }
  if (absl::GetFlag(FLAGS_default_timeout) > absl::GetFlag(FLAGS_max_timeout)) {
    return UsageError(absl::StrCat(
        "--default_timeout=", absl::FormatDuration(absl::GetFlag(FLAGS_default_timeout)),
        " is longer than --max_timeout=", absl::FormatDuration(absl::GetFlag(FLAGS_max_timeout))));
  }
  if (absl::GetFlag(FLAGS_tls_cert).empty() != absl::GetFlag(FLAGS_tls_key).empty()) {
    return UsageError(absl::GetFlag(FLAGS_tls_cert).empty()
                          ? "--tls_key needs --tls_cert (TLS takes both)"
                          : "--tls_cert needs --tls_key (TLS takes both)");
  }
  if (absl::GetFlag(FLAGS_max_connection_age) < absl::ZeroDuration()) {
    return UsageError("--max_connection_age: must not be negative");
  }
  if (absl::GetFlag(FLAGS_shutdown_grace) < absl::ZeroDuration()) {
    return UsageError("--shutdown_grace: must not be negative");
  }

  corio::fetch::AddressPolicy::Options policy;
  policy.allow_private_networks = absl::GetFlag(FLAGS_allow_private_networks);
  for (const std::string& c : absl::GetFlag(FLAGS_allow_cidr)) {
    absl::StatusOr<corio::fetch::Cidr> cidr = corio::fetch::Cidr::Parse(c);
    if (!cidr.ok()) return UsageError(absl::StrCat("--allow_cidr: ", cidr.status().message()));
    policy.allow.push_back(*cidr);
  }
  for (const std::string& c : absl::GetFlag(FLAGS_deny_cidr)) {
    absl::StatusOr<corio::fetch::Cidr> cidr = corio::fetch::Cidr::Parse(c);
    if (!cidr.ok()) return UsageError(absl::StrCat("--deny_cidr: ", cidr.status().message()));
    policy.deny.push_back(*cidr);
  }

  std::string token = absl::GetFlag(FLAGS_bearer_token);
  if (!absl::GetFlag(FLAGS_bearer_token_file).empty()) {
    if (!token.empty()) return UsageError("give --bearer_token or --bearer_token_file, not both");
    std::string error;
    token = ReadToken(absl::GetFlag(FLAGS_bearer_token_file), &error);
    if (!error.empty()) return UsageError(error);
  }

  corio::fetch::HttpBackendOptions backend;
  backend.policy = corio::fetch::AddressPolicy(policy);
  backend.max_body_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_body_bytes));
  backend.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  backend.max_timeout = absl::GetFlag(FLAGS_max_timeout);
  backend.client.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  backend.client.max_redirects = absl::GetFlag(FLAGS_max_redirects);
  backend.client.max_body_bytes = backend.max_body_bytes;
  backend.client.tls.ca_file = absl::GetFlag(FLAGS_cacert);
  // The server's own bound is the concurrency limit; the client pool must not be a second,
  // smaller one.
  backend.client.limit = absl::GetFlag(FLAGS_max_concurrent_fetches);

  corio::fetch::FetchServerOptions o;
  o.listen_address = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                                          : absl::StrCat(host, ":", port);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.max_concurrent_fetches = absl::GetFlag(FLAGS_max_concurrent_fetches);
  o.service.bearer_token = token;
  o.service.default_call_concurrency = call_concurrency;
  o.backend = corio::fetch::HttpBackendFactory(std::move(backend));
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.server_name = absl::GetFlag(FLAGS_server_name);
  o.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);

  // Signals are taken by sigwait below; block them before any thread exists so that every
  // thread (gRPC's, the loops') inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<corio::fetch::FetchServer>> server =
      corio::fetch::FetchServer::Start(std::move(o));
  if (!server.ok()) {
    std::fprintf(stderr, "fetch_server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> notes;
  notes.push_back(absl::StrCat((*server)->loops().size(), " loops"));
  notes.push_back(absl::StrCat("max ", absl::GetFlag(FLAGS_max_concurrent_fetches),
                               " concurrent fetches"));
  notes.push_back(policy.allow_private_networks ? "private networks ALLOWED"
                                                : "public addresses only");
  if (!policy.allow.empty()) {
    notes.push_back(absl::StrCat("allow ", absl::StrJoin(absl::GetFlag(FLAGS_allow_cidr), ",")));
  }
  notes.push_back(absl::GetFlag(FLAGS_tls_cert).empty() ? "plaintext" : "TLS");
  notes.push_back(token.empty() ? "no auth" : "bearer token required");
  // The first line on stdout is for scripts and tests: where it listens.
  std::printf("listening on %s\n", (*server)->name().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "fetch_server: serving corio.fetch.v1.FetchService as %s (%s)\n",
               (*server)->name().c_str(), absl::StrJoin(notes, ", ").c_str());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  std::fprintf(stderr, "fetch_server: %s: not taking new calls; %s for those in flight\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", absl::FormatDuration(grace).c_str());
  (*server)->Shutdown(grace);
  server->reset();
  std::fprintf(stderr, "fetch_server: stopped\n");
  return 0;
}
