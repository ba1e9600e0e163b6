#include "cmd/fetch_cmd/format.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace corio::fetch_cmd {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t len;
  uint32_t min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        ++i;
        continue;
      case '\\':
        out->append("\\\\");
        ++i;
        continue;
      case '\n':
        out->append("\\n");
        ++i;
        continue;
      case '\r':
        out->append("\\r");
        ++i;
        continue;
      case '\t':
        out->append("\\t");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\u%04x", c);
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    out->append(s.data() + i, len);
    i += len;
  }
  out->push_back('"');
}

std::string JsonLine(const FetchResult& r, bool with_file) {
  std::string out;
  out.reserve(128 + 2 * r.url.size());
  out.append("{\"url\":");
  AppendJsonString(r.url, &out);
  out.append(",\"status\":");
  if (r.status > 0) {
    absl::StrAppend(&out, r.status);
  } else {
    out.append("null");
  }
  absl::StrAppend(&out, ",\"bytes\":", r.bytes);
  absl::StrAppendFormat(&out, ",\"elapsed_ms\":%.3f", absl::ToDoubleMilliseconds(r.elapsed));
  out.append(",\"final_url\":");
  if (r.status > 0 && !r.final_url.empty()) {
    AppendJsonString(r.final_url, &out);
  } else {
    out.append("null");
  }
  absl::StrAppend(&out, ",\"redirects\":", r.redirects);
  if (r.error.ok()) {
    out.append(",\"error\":null,\"error_code\":null");
  } else {
    out.append(",\"error\":");
    AppendJsonString(r.error.message().empty() ? CodeName(r.error.code()) : r.error.message(),
                     &out);
    out.append(",\"error_code\":");
    AppendJsonString(CodeName(r.error.code()), &out);
  }
  if (with_file) {
    out.append(",\"file\":");
    if (r.file.empty()) {
      out.append("null");
    } else {
      AppendJsonString(r.file, &out);
    }
  }
  out.append("}\n");
  return out;
}

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return absl::StrCat(n, " B");
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n) / 1024;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return absl::StrFormat("%.1f %s", v, kUnits[u]);
}

namespace {
std::string HumanDuration(absl::Duration d) {
  const double ms = absl::ToDoubleMilliseconds(d);
  if (ms < 10) return absl::StrFormat("%.1f ms", ms);
  if (ms < 10000) return absl::StrFormat("%.0f ms", ms);
  return absl::StrFormat("%.1f s", ms / 1000);
}
}  // namespace

std::string SummaryLine(const FetchResult& r) {
  std::string out;
  if (r.ok()) {
    absl::StrAppendFormat(&out, "%-4d %10s %9s  %s", r.status, HumanBytes(r.bytes),
                          HumanDuration(r.elapsed), r.url);
    if (r.redirects > 0) absl::StrAppend(&out, " -> ", r.final_url);
  } else {
    absl::StrAppendFormat(&out, "%-4s %10s %9s  %s: %s", "ERR", CodeName(r.error.code()),
                          HumanDuration(r.elapsed), r.url, r.error.message());
  }
  if (!r.file.empty()) absl::StrAppend(&out, " [", r.file, "]");
  // A URL or message may hold control characters; the line must stay one line.
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  out.push_back('\n');
  return out;
}

void Totals::Add(const FetchResult& r) {
  ++done;
  if (!r.server.empty()) ++by_server[r.server];
  bytes += r.bytes;
  if (r.ok()) {
    ++ok;
    // by_class[0]: statuses outside 1xx-5xx (a server may send 600-999), so the classes
    // always add up to `ok`.
    ++by_class[r.status >= 100 && r.status < 600 ? r.status / 100 : 0];
  } else {
    ++failed;
    ++failed_by_code[CodeName(r.error.code())];
  }
}

std::string TotalLine(const Totals& t, absl::Duration wall, bool interrupted) {
  std::string out = interrupted ? "interrupted after " : "";
  absl::StrAppend(&out, t.done, t.done == 1 ? " URL: " : " URLs: ", t.ok, " ok");
  std::string classes;
  for (int c = 1; c <= 5; ++c) {
    if (t.by_class[c] == 0) continue;
    absl::StrAppend(&classes, classes.empty() ? " (" : ", ", t.by_class[c], " ", c, "xx");
  }
  if (t.by_class[0] > 0) {
    absl::StrAppend(&classes, classes.empty() ? " (" : ", ", t.by_class[0], " other");
  }
  if (!classes.empty()) absl::StrAppend(&out, classes, ")");
  absl::StrAppend(&out, ", ", t.failed, " failed");
  if (!t.failed_by_code.empty()) {
    out.append(" (");
    bool first = true;
    for (const auto& [code, n] : t.failed_by_code) {
      if (!first) out.append(", ");
      first = false;
      absl::StrAppend(&out, n, " ", code);
    }
    out.append(")");
  }
  if (!t.by_server.empty()) {
    absl::StrAppend(&out, ", via ", t.by_server.size(),
                    t.by_server.size() == 1 ? " server (" : " servers (");
    bool first = true;
    for (const auto& [server, n] : t.by_server) {
      absl::StrAppend(&out, first ? "" : ", ", server, ": ", n);
      first = false;
    }
    out.append(")");
  }
  const double secs = absl::ToDoubleSeconds(wall);
  absl::StrAppendFormat(&out, ", %s in %.2f s, %.0f req/s\n", HumanBytes(t.bytes), secs,
                        secs > 0 ? static_cast<double>(t.done) / secs : 0.0);
  return out;
}

}  // namespace corio::fetch_cmd
