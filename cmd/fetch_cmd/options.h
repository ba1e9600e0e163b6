// The fetch command's command line: Abseil flags, parsed strictly so that every usage error —
// an unknown flag, a value that does not parse, a missing input file — is one clear line and
// exit status 2 (Abseil's own parser exits 1).
//
//   ParsedArgs args = ParseArgs(argc, argv);
//   switch (args.outcome) {
//     case ParsedArgs::kHelp:  std::fputs(HelpText().c_str(), stdout); return 0;
//     case ParsedArgs::kUsageError:
//       std::fprintf(stderr, "fetch: %s\n%s", args.error.c_str(), kSeeHelp); return 2;
//     case ParsedArgs::kRun: return Run(args.options);
//   }
//
// Syntax: `--name=value`, `--name value`, `--flag` / `--noflag` for booleans, `--` ends the
// flags; everything else is a URL. `--header` repeats (each occurrence adds one header; the
// value may hold commas and colons). Durations use Abseil's syntax: `2s`, `500ms`, `1m30s`.
// Threading: ParseArgs uses the process's flag registry: call it from one thread at a time.
#ifndef CORIO_CMD_FETCH_OPTIONS_H_
#define CORIO_CMD_FETCH_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace corio::fetch_cmd {

enum class OutputMode { kSummary, kJsonl, kBody };

struct FetchOptions {
  std::vector<std::string> urls;  // from the command line
  std::string input;              // --input: a file, or "-" for stdin
  int concurrency = 64;
  int limit_per_host = 0;  // 0: no per-host limit
  int threads = 0;         // 0: one loop per core
  absl::Duration timeout = absl::Seconds(60);
  absl::Duration connect_timeout = absl::Seconds(10);
  int max_redirects = 10;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> data;
  std::string cacert;
  bool insecure = false;
  int retries = 0;
  uint64_t max_body_bytes = uint64_t{1} << 30;
  OutputMode output = OutputMode::kSummary;
  std::string output_dir;
  std::string server;
  std::string server_cacert;  // TLS to the fetch servers, trusting this CA file
  std::string server_token;   // bearer token for the fetch servers
  bool demo = false;
};

struct ParsedArgs {
  enum Outcome { kRun, kHelp, kUsageError };
  Outcome outcome = kRun;
  FetchOptions options;
  std::string error;  // kUsageError: one line, no trailing newline
};

ParsedArgs ParseArgs(int argc, const char* const* argv);

// The --help text: what the command does, every flag, and examples.
std::string HelpText();

inline constexpr char kSeeHelp[] = "Run 'fetch --help' for usage.\n";

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_OPTIONS_H_
