// fetch: download many URLs concurrently, on every core. See `fetch --help` and
// cmd/fetch_cmd/runner.h; DESIGN.md "The fetch command" is the contract.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "cmd/fetch_cmd/input.h"
#include "cmd/fetch_cmd/options.h"
#include "cmd/fetch_cmd/output.h"
#include "cmd/fetch_cmd/progress.h"
#include "cmd/fetch_cmd/body_file.h"
#include "cmd/fetch_cmd/remote_fetcher.h"
#include "cmd/fetch_cmd/runner.h"
#include "net/fetch/client.h"
#include "testing/http_demo_site.h"
#include "testing/http_server.h"

namespace {

using corio::fetch_cmd::FetchOptions;
using corio::fetch_cmd::kSeeHelp;
using corio::fetch_cmd::ParsedArgs;

// With --server, failures reach the user as each URL's error (or one usage line): gRPC's and
// protobuf's own log lines ("E1201 ... ssl_transport_security.cc ...", "[libprotobuf ERROR
// ...]") would only add noise to stderr. Set before gRPC starts. GRPC_VERBOSITY or GRPC_TRACE
// in the environment keep gRPC's lines, for debugging.
void QuietGrpcAndProtobufLogs() {
  google::protobuf::SetLogHandler(nullptr);  // drops all but FATAL
  if (std::getenv("GRPC_VERBOSITY") != nullptr || std::getenv("GRPC_TRACE") != nullptr) return;
  gpr_set_log_function([](gpr_log_func_args*) {});
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "fetch: %s\n%s", message.c_str(), kSeeHelp);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Under `bazel run`, relative paths (--input, --output_dir, --cacert) mean the user's
  // directory, not the runfiles tree Bazel starts us in.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY"); dir != nullptr && *dir != '\0') {
    if (chdir(dir) != 0) std::perror("fetch: chdir to $BUILD_WORKING_DIRECTORY");
  }
  ParsedArgs args = corio::fetch_cmd::ParseArgs(argc, argv);
  switch (args.outcome) {
    case ParsedArgs::kHelp:
      std::fputs(corio::fetch_cmd::HelpText().c_str(), stdout);
      return 0;
    case ParsedArgs::kUsageError:
      return UsageError(args.error);
    case ParsedArgs::kRun:
      break;
  }
  // A reader that goes away (`fetch ... | head`) is a write error, not a silent death.
  signal(SIGPIPE, SIG_IGN);
  FetchOptions& o = args.options;
  corio::fetch_cmd::RunnerEnv env;
  std::unique_ptr<corio::fetch_cmd::UrlInput> input;
  std::unique_ptr<corio::testing::FakeHttpServer> demo_server;
  if (o.demo) {
    absl::StatusOr<std::unique_ptr<corio::testing::FakeHttpServer>> server =
        corio::testing::FakeHttpServer::StartInBackground();
    if (!server.ok()) {
      std::fprintf(stderr, "fetch: --demo: %s\n", std::string(server.status().message()).c_str());
      return 1;
    }
    demo_server = std::move(*server);
    o.urls = corio::testing::InstallDemoSite(*demo_server);
    std::fprintf(stderr,
                 "fetch --demo: a test server on %s (no network needed) serves %zu URLs: pages, "
                 "slow pages, redirects, gzip, a large file and a 404. Fetching them all:\n",
                 demo_server->url("/").c_str(), o.urls.size());
  }
  // --server: the fetching happens on corio fetch servers (one gRPC channel for every loop).
  std::unique_ptr<corio::fetch::FetchClient> fetch_client;
  std::unique_ptr<corio::fetch_cmd::BodyFiles> body_files;
  if (!o.server.empty()) {
    QuietGrpcAndProtobufLogs();
    corio::fetch::FetchClientOptions client_options;
    client_options.target = o.server;
    client_options.tls = !o.server_cacert.empty();
    client_options.tls_ca_file = o.server_cacert;
    client_options.bearer_token = o.server_token;
    absl::StatusOr<std::unique_ptr<corio::fetch::FetchClient>> client =
        corio::fetch::FetchClient::Create(std::move(client_options));
    if (!client.ok()) return UsageError(absl::StrCat("--server=", o.server, ": ", client.status().message()));
    fetch_client = std::move(*client);
    if (!o.output_dir.empty()) {
      absl::StatusOr<std::unique_ptr<corio::fetch_cmd::BodyFiles>> dir =
          corio::fetch_cmd::BodyFiles::Open(o.output_dir);
      if (!dir.ok()) {
        std::fprintf(stderr, "fetch: %s\n", std::string(dir.status().message()).c_str());
        return 1;
      }
      body_files = std::move(*dir);
    }
    env.fetcher_factory =
        corio::fetch_cmd::RemoteFetcherFactory(*fetch_client, o, body_files.get());
  }
  if (!o.input.empty()) {
    absl::StatusOr<std::unique_ptr<corio::fetch_cmd::UrlInput>> in =
        corio::fetch_cmd::UrlInput::OpenFile(o.input);
    if (!in.ok()) return UsageError(absl::StrCat("--input=", o.input, ": ", in.status().message()));
    input = std::move(*in);
  } else {
    env.known_total = o.urls.size();
    input = corio::fetch_cmd::UrlInput::FromList(std::move(o.urls));
  }
  env.progress = corio::fetch_cmd::ShouldShowProgress(isatty(STDERR_FILENO) == 1, env.known_total);
  corio::fetch_cmd::Output output(o.output, /*with_file=*/!o.output_dir.empty(), STDOUT_FILENO,
                                  STDERR_FILENO);
  corio::fetch_cmd::Runner runner(std::move(o), std::move(input), output, std::move(env));
  return runner.Run();
}
