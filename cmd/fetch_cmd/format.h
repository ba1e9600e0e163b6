// Text formats of the fetch command's output: JSON lines, the human summary, sizes, and the
// JSON string escaping they share. Pure functions.
//
//   std::string line = corio::fetch_cmd::JsonLine(result, /*with_file=*/false);
//   // {"url":"http://a/","status":200,"bytes":1024,"elapsed_ms":1.234,"final_url":"http://a/",
//   //  "redirects":0,"error":null,"error_code":null}
//
// Threading: pure; safe from any thread.
#ifndef CORIO_CMD_FETCH_CMD_FORMAT_H_
#define CORIO_CMD_FETCH_CMD_FORMAT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cmd/fetch_cmd/result.h"

namespace corio::fetch_cmd {

// Appends `s` as a JSON string literal (quotes included). Control characters are escaped;
// bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
void AppendJsonString(absl::string_view s, std::string* out);

// One JSON object, newline-terminated, with exactly the fields url, status, bytes, elapsed_ms,
// final_url, redirects, error, error_code (and file, when `with_file`).
std::string JsonLine(const FetchResult& r, bool with_file);

// "1.0 KiB", "23 B", "4.5 MiB".
std::string HumanBytes(uint64_t n);

// One line of --output=summary for a finished URL (newline-terminated).
std::string SummaryLine(const FetchResult& r);

// Running totals, and the final line.
struct Totals {
  uint64_t done = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> failed_by_code;  // canonical code name -> count
  uint64_t by_class[6] = {};  // ok responses by status class (1xx..5xx; [0]: any other)
  std::map<std::string, uint64_t> by_server;       // --server: results per fetch server
  void Add(const FetchResult& r);
};
// "20000 URLs: 19990 ok (19989 2xx, 1 4xx), 10 failed (7 DEADLINE_EXCEEDED, 3 UNAVAILABLE),
// 19.5 MiB in 1.23 s, 16260 req/s" — and with --server, ", via 3 servers (a: 6000, b: ...)" — prefixed with "interrupted after " when `interrupted`.
std::string TotalLine(const Totals& t, absl::Duration wall, bool interrupted);

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_FORMAT_H_
