#include "cmd/fetch_cmd/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, input, "", "read URLs from FILE, one a line ('-' for stdin)");
ABSL_FLAG(int, concurrency, 64, "requests in flight at once, in total");
ABSL_FLAG(int, limit_per_host, 0, "requests in flight at once per host (0: no limit)");
ABSL_FLAG(int, threads, 0, "event loops (threads) to fetch on (0: one per core)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(60),
          "total time allowed per URL: DNS, connect, TLS, every read, every redirect hop");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10),
          "time allowed to connect (DNS + TCP + TLS handshake)");
ABSL_FLAG(int, max_redirects, 10, "redirects to follow per URL (0: none)");
ABSL_FLAG(std::string, method, "", "HTTP method (default GET, or POST with --data)");
ABSL_FLAG(std::string, data, "", "request body (sets Content-Length)");
ABSL_FLAG(std::string, cacert, "", "PEM file of CA certificates to trust (instead of the system's)");
ABSL_FLAG(bool, insecure, false, "do not verify TLS certificates (dangerous)");
ABSL_FLAG(int, retries, 0,
          "retries per URL for idempotent requests on connection errors, 429 and 5xx");
ABSL_FLAG(uint64_t, max_body_bytes, uint64_t{1} << 30, "largest decoded body accepted per URL");
ABSL_FLAG(std::string, output, "summary", "summary, jsonl or body");
ABSL_FLAG(std::string, output_dir, "", "write each body to a file in DIR");
ABSL_FLAG(std::string, server, "", "send the work to fetch servers at this gRPC target");
ABSL_FLAG(std::string, server_cacert, "",
          "with --server: talk TLS to the servers, trusting the CA certificates in FILE");
ABSL_FLAG(std::string, server_token, "", "with --server: the servers' bearer token");
ABSL_FLAG(bool, demo, false, "fetch from a built-in test server on loopback");

namespace corio::fetch_cmd {
namespace {

// The flags this command defines (--header is handled apart: it repeats).
constexpr const char* kFlagNames[] = {
    "input",      "concurrency", "limit_per_host", "threads",        "timeout",
    "connect_timeout", "max_redirects", "method",    "data",           "cacert",
    "insecure",   "retries",     "max_body_bytes", "output",         "output_dir",
    "server",     "server_cacert", "server_token", "demo",
};

bool IsOurFlag(absl::string_view name) {
  for (const char* f : kFlagNames) {
    if (name == f) return true;
  }
  return false;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::string ParseHeader(absl::string_view text,
                        std::vector<std::pair<std::string, std::string>>* out) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    return absl::StrCat("--header \"", text, "\": expected \"Name: value\"");
  }
  absl::string_view name = text.substr(0, colon);
  absl::string_view value = absl::StripAsciiWhitespace(text.substr(colon + 1));
  if (!IsToken(name)) {
    return absl::StrCat("--header \"", text, "\": \"", name, "\" is not a valid header name");
  }
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      return absl::StrCat("--header \"", name, "\": the value holds a control character");
    }
  }
  out->emplace_back(std::string(name), std::string(value));
  return "";
}

// A usage message is one line: control characters in user-given values (a newline in
// --output=$'a\nb') are shown escaped.
std::string OneLine(absl::string_view message) {
  std::string out;
  for (char c : message) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      out += absl::StrFormat("\\x%02x", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// "" when `path` names a readable file (not a directory); what is wrong otherwise.
std::string CheckReadableFile(const std::string& flag, const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::StrCat(flag, "=", path, ": ", std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return absl::StrCat(flag, "=", path, ": is a directory");
  if (access(path.c_str(), R_OK) != 0) {
    return absl::StrCat(flag, "=", path, ": ", std::strerror(errno));
  }
  return "";
}

// Restores every flag to its default, so ParseArgs can run more than once (tests).
void ResetFlags() {
  for (const char* name : kFlagNames) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string error;
    flag->ParseFrom(flag->DefaultValue(), &error);
  }
}

std::string Validate(FetchOptions& o, bool method_given) {
  if (o.concurrency < 1) return absl::StrCat("--concurrency=", o.concurrency, ": must be >= 1");
  if (o.limit_per_host < 0) {
    return absl::StrCat("--limit_per_host=", o.limit_per_host, ": must be >= 0 (0: no limit)");
  }
  if (o.threads < 0) return absl::StrCat("--threads=", o.threads, ": must be >= 0");
  if (o.threads > 1024) return absl::StrCat("--threads=", o.threads, ": at most 1024");
  if (o.max_redirects < 0) {
    return absl::StrCat("--max_redirects=", o.max_redirects, ": must be >= 0");
  }
  if (o.retries < 0) return absl::StrCat("--retries=", o.retries, ": must be >= 0");
  if (o.timeout <= absl::ZeroDuration()) {
    return absl::StrCat("--timeout=", absl::FormatDuration(o.timeout), ": must be positive");
  }
  if (o.connect_timeout <= absl::ZeroDuration()) {
    return absl::StrCat("--connect_timeout=", absl::FormatDuration(o.connect_timeout),
                        ": must be positive");
  }
  if (o.max_body_bytes == 0) return "--max_body_bytes=0: must be positive";
  if (!method_given) o.method = o.data.has_value() ? "POST" : "GET";
  if (!IsToken(o.method)) return absl::StrCat("--method=\"", o.method, "\": not a valid method");
  if (!o.urls.empty() && !o.input.empty()) {
    return "give URLs as arguments or --input, not both";
  }
  if (o.demo && (!o.urls.empty() || !o.input.empty())) {
    return "--demo fetches its own URLs: give no URLs and no --input with it";
  }
  if (o.output == OutputMode::kBody && !o.output_dir.empty()) {
    return "--output=body and --output_dir both say where bodies go: pick one";
  }
  if (!o.input.empty() && o.input != "-") {
    std::string bad = CheckReadableFile("--input", o.input);
    if (!bad.empty()) return bad;
  }
  // A CA file that is missing or unreadable is a usage error too, not a failure per https URL.
  if (!o.cacert.empty()) {
    std::string bad = CheckReadableFile("--cacert", o.cacert);
    if (!bad.empty()) return bad;
  }
  if (!o.output_dir.empty()) {
    struct stat st;
    if (stat(o.output_dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::StrCat("--output_dir=", o.output_dir, ": exists and is not a directory");
      }
    } else if (errno != ENOENT) {
      return absl::StrCat("--output_dir=", o.output_dir, ": ", std::strerror(errno));
    } else {
      // fetch creates DIR itself (one level): its parent must be a directory.
      absl::string_view dir = absl::StripSuffix(o.output_dir, "/");
      const size_t slash = dir.rfind('/');
      std::string parent = ".";
      if (slash == 0) parent = "/";
      if (slash != absl::string_view::npos && slash > 0) parent = std::string(dir.substr(0, slash));
      if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return absl::StrCat("--output_dir=", o.output_dir, ": its parent ", parent,
                            " is not a directory (fetch creates only DIR itself)");
      }
    }
  }
  if (o.server.empty() && (!o.server_cacert.empty() || !o.server_token.empty())) {
    return "--server_cacert and --server_token go with --server";
  }
  if (!o.server_cacert.empty() && access(o.server_cacert.c_str(), R_OK) != 0) {
    return absl::StrCat("--server_cacert=", o.server_cacert, ": ", std::strerror(errno));
  }
  if (!o.server.empty() && o.urls.empty() && o.input.empty()) {
    return "--server needs URLs: give them as arguments or with --input";
  }
  if (o.urls.empty() && o.input.empty()) o.demo = true;
  return "";
}

}  // namespace

ParsedArgs ParseArgs(int argc, const char* const* argv) {
  ParsedArgs result;
  ResetFlags();
  FetchOptions& o = result.options;
  auto usage_error = [&](std::string message) {
    result.outcome = ParsedArgs::kUsageError;
    result.error = OneLine(message);
    return result;
  };
  bool method_given = false;
  bool data_given = false;
  bool input_given = false;
  bool only_urls = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (only_urls || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      o.urls.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_urls = true;
      continue;
    }
    if (arg == "-h" || arg == "--help" || arg == "-help" || arg == "--helpfull") {
      result.outcome = ParsedArgs::kHelp;
      return result;
    }
    absl::string_view body = arg.substr(absl::StartsWith(arg, "--") ? 2 : 1);
    std::string name(body.substr(0, body.find('=')));
    std::optional<std::string> value;
    if (body.find('=') != absl::string_view::npos) value = std::string(body.substr(name.size() + 1));
    if (name == "header" || name == "H") {
      if (!value) {
        if (i + 1 >= argc) return usage_error("--header needs a value: --header=\"Name: value\"");
        value = argv[++i];
      }
      std::string err = ParseHeader(*value, &o.headers);
      if (!err.empty()) return usage_error(err);
      continue;
    }
    bool negated = false;
    if (!IsOurFlag(name) && absl::StartsWith(name, "no") && IsOurFlag(name.substr(2))) {
      negated = true;
      name = name.substr(2);
    }
    if (!IsOurFlag(name)) return usage_error(absl::StrCat("unknown flag ", arg));
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    const bool is_bool = flag->IsOfType<bool>();
    if (negated) {
      if (!is_bool || value) return usage_error(absl::StrCat("unknown flag ", arg));
      value = "false";
    } else if (!value) {
      if (is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return usage_error(absl::StrCat("--", name, " needs a value"));
      }
    }
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return usage_error(absl::StrCat("--", name, "=", *value, ": ", error));
    }
    if (name == "method") method_given = true;
    if (name == "data") data_given = true;
    if (name == "input") input_given = true;
  }
  o.input = absl::GetFlag(FLAGS_input);
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.limit_per_host = absl::GetFlag(FLAGS_limit_per_host);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.timeout = absl::GetFlag(FLAGS_timeout);
  o.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  o.max_redirects = absl::GetFlag(FLAGS_max_redirects);
  o.method = absl::GetFlag(FLAGS_method);
  if (data_given) o.data = absl::GetFlag(FLAGS_data);
  o.cacert = absl::GetFlag(FLAGS_cacert);
  o.insecure = absl::GetFlag(FLAGS_insecure);
  o.retries = absl::GetFlag(FLAGS_retries);
  o.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes);
  o.output_dir = absl::GetFlag(FLAGS_output_dir);
  o.server = absl::GetFlag(FLAGS_server);
  o.server_cacert = absl::GetFlag(FLAGS_server_cacert);
  o.server_token = absl::GetFlag(FLAGS_server_token);
  o.demo = absl::GetFlag(FLAGS_demo);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output == "summary") {
    o.output = OutputMode::kSummary;
  } else if (output == "jsonl") {
    o.output = OutputMode::kJsonl;
  } else if (output == "body") {
    o.output = OutputMode::kBody;
  } else {
    return usage_error(
        absl::StrCat("--output=", output, ": unknown output; use summary, jsonl or body"));
  }
  if (input_given && o.input.empty()) {
    return usage_error("--input needs a file, or '-' for stdin");
  }
  std::string err = Validate(o, method_given && !o.method.empty());
  if (!err.empty()) return usage_error(err);
  return result;
}

std::string HelpText() {
  return R"(fetch: download many URLs concurrently, on every core (corio).

Usage:
  fetch [flags] URL...
  fetch [flags] --input=FILE        one URL a line ('-' for stdin); blank lines and # comments skipped
  fetch                             (or --demo) fetch from a built-in test server on loopback

Every URL is fetched concurrently, bounded by --concurrency in total and --limit_per_host per
host, over pooled keep-alive connections, following redirects. The input is read lazily, so a
list of millions of lines runs in constant memory and results start at once.

Output (stdout):
  --output=summary   one line per URL as it completes (status, size, time, URL or error),
                     then a total line (default)
  --output=jsonl     one JSON object per URL, as it completes: url, status, bytes, elapsed_ms,
                     final_url, redirects, error, error_code
  --output=body      the bodies, in input order
  --output_dir=DIR   also write each body to its own file in DIR (names derived safely from
                     the index and URL; the summary/jsonl line names the file)
A progress bar is drawn on stderr when it is a terminal and the list is long.

Requests:
  --method=M         HTTP method (default GET; POST when --data is given)
  --header="N: V"    add a request header (repeatable; values may hold commas and colons)
  --data=BODY        request body
  --max_redirects=N  redirects to follow (default 10; 0: none)
  --max_body_bytes=N largest decoded body per URL (default 1 GiB)
  --retries=N        retry idempotent requests on connection errors, 429 and 5xx, with
                     backoff, honouring Retry-After (default 0)

Limits and time (durations like 2s, 500ms, 1m30s):
  --concurrency=N    requests in flight in total (default 64)
  --limit_per_host=N requests in flight per host (default 0: no limit)
  --threads=N        event loops/threads (default 0: one per core)
  --timeout=D        total time per URL, every hop included (default 60s)
  --connect_timeout=D  DNS + TCP + TLS handshake (default 10s)

TLS:
  --cacert=FILE      trust the CA certificates in FILE (PEM) instead of the system's
  --insecure         do not verify certificates

Elsewhere:
  --server=TARGET    have corio fetch servers do the fetching (gRPC target: host:port,
                     ipv4:a:p,b:q, dns:///name:port; several are balanced round robin, and
                     a server that dies mid-run has its URLs sent to the others)
  --server_cacert=FILE  TLS to the servers, trusting the CA certificates in FILE
  --server_token=T   bearer token the servers require
  --demo             start a test server on loopback and fetch a few hundred URLs from it

Exit status: 0 when every URL got an HTTP response (any status), 1 when any failed,
2 on a usage error, 130/143 when interrupted by SIGINT/SIGTERM (finished results are printed).

Examples:
  fetch https://example.com/ https://example.org/
  fetch --input=urls.txt --concurrency=200 --limit_per_host=8 --output=jsonl > results.jsonl
  seq 1 1000 | sed 's|^|http://127.0.0.1:8080/item/|' | fetch --input=- --timeout=5s
  fetch --output_dir=pages --retries=2 --input=urls.txt
  fetch --method=POST --header="Content-Type: application/json" --data='{"a":1}' https://x/api
  fetch --server=dns:///fetch.internal:50051 --input=urls.txt
)";
}

}  // namespace corio::fetch_cmd
