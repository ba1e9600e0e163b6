// Safe file names for --output_dir: one file per URL, named from its index and URL so a person
// can tell which is which, and such that no URL — however crafted (`..`, `%2e%2e`, `%2F`,
// absolute paths in the query, NUL, very long names) — names anything outside the directory.
//
//   FileNameFor(6, "https://example.com/a/b.html?x=1")   // "000006_example.com_a_b.html_x_1"
//
// The name holds only [A-Za-z0-9._-], never starts with '.', has no '/', is at most
// kMaxFileNameBytes long, and starts with the zero-padded index, so names of one run are unique.
// Write it with openat(dir_fd, name, O_NOFOLLOW | ...) so a symlink planted in the directory is
// not followed either.
// Threading: pure.
#ifndef CORIO_CMD_FETCH_FILE_NAMES_H_
#define CORIO_CMD_FETCH_FILE_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace corio::fetch_cmd {

inline constexpr size_t kMaxFileNameBytes = 120;

std::string FileNameFor(uint64_t index, absl::string_view url);

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_FILE_NAMES_H_
