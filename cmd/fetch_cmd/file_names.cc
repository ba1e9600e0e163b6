#include "cmd/fetch_cmd/file_names.h"

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace corio::fetch_cmd {
namespace {

bool Safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

}  // namespace

std::string FileNameFor(uint64_t index, absl::string_view url) {
  std::string name = absl::StrFormat("%06d", index);
  // Drop the scheme; the rest (host, path, query) becomes the readable part.
  if (size_t p = url.find("://"); p != absl::string_view::npos) url.remove_prefix(p + 3);
  if (size_t p = url.find('#'); p != absl::string_view::npos) url = url.substr(0, p);
  bool last_was_sep = true;  // "_" between the index and the rest
  for (char c : url) {
    if (name.size() >= kMaxFileNameBytes) break;
    if (Safe(c)) {
      // Runs of dots would spell ".." between separators: keep one.
      if (c == '.' && !name.empty() && name.back() == '.') continue;
      if (last_was_sep) name.push_back('_');
      last_was_sep = false;
      name.push_back(c);
    } else {
      last_was_sep = true;  // '/', '%', '?', '\\', NUL, ...: one '_' per run
    }
  }
  // No trailing dot (some tools treat it specially).
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace corio::fetch_cmd
