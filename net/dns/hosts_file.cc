#include "net/dns/hosts_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace corio::dns_internal {

std::string CanonicalHostName(absl::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return absl::AsciiStrToLower(name);
}

HostsMap ParseHosts(absl::string_view text) {
  HostsMap names;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r\f\v"), absl::SkipEmpty());
    if (fields.size() < 2) continue;
    absl::StatusOr<SocketAddress> ip = SocketAddress::FromIp(fields[0], 0);
    if (!ip.ok()) continue;
    for (size_t i = 1; i < fields.size(); ++i) {
      std::vector<SocketAddress>& addrs = names[CanonicalHostName(fields[i])];
      if (std::find(addrs.begin(), addrs.end(), *ip) == addrs.end()) addrs.push_back(*ip);
    }
  }
  return names;
}

void HostsFile::Refresh() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    names_.clear();
    loaded_ = false;
    return;
  }
  if (loaded_ && st.st_size == size_ && st.st_ino == inode_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
      st.st_mtim.tv_nsec == mtime_.tv_nsec) {
    return;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    names_.clear();
    loaded_ = false;
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  names_ = ParseHosts(text.str());
  loaded_ = true;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  inode_ = st.st_ino;
}

std::vector<SocketAddress> HostsFile::Lookup(absl::string_view name, int family) {
  Refresh();
  auto it = names_.find(CanonicalHostName(name));
  if (it == names_.end()) return {};
  std::vector<SocketAddress> v6, v4;
  for (const SocketAddress& a : it->second) {
    if (a.is_v6() && family != AF_INET) v6.push_back(a);
    if (a.is_v4() && family != AF_INET6) v4.push_back(a);
  }
  v6.insert(v6.end(), v4.begin(), v4.end());
  return v6;
}

}  // namespace corio::dns_internal
