// HostsFile: the names of a hosts(5) file ("/etc/hosts"), for dns::Resolver,
// which answers them without a query. Internal to net/dns: the resolver's
// `ResolverOptions::hosts_file` is the public way to use it.
//
//   dns_internal::HostsFile hosts("/etc/hosts");
//   std::vector<SocketAddress> a = hosts.Lookup("myhost", AF_UNSPEC);   // port
//   0
//
// Format: one entry a line, `IP name [alias...]`, `#` to the end of a line is a
// comment; names match without regard to case or a trailing dot; lines whose IP
// does not parse are skipped. Lookup returns the IPv6 addresses first, then
// IPv4, each in file order, without duplicates. The file is read again when its
// size, modification time or inode changed since the last read (one stat() per
// lookup; the file is small and local, so it is read on the loop's thread, as
// c-ares and glibc do). A missing or unreadable file has no names (not an
// error: minimal systems and containers have none). Threading: not thread-safe;
// the resolver uses it on its loop's thread.
#ifndef CORIO_NET_DNS_HOSTS_FILE_H_
#define CORIO_NET_DNS_HOSTS_FILE_H_

#include <sys/types.h>

#include <ctime>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "net/socket_address.h"

namespace corio::dns_internal {

using HostsMap = absl::flat_hash_map<std::string, std::vector<SocketAddress>>;

// Parses hosts(5) text: lowercase name (no trailing dot) -> addresses in file
// order.
HostsMap ParseHosts(absl::string_view text);

// Lowercases `name` and drops one trailing dot.
std::string CanonicalHostName(absl::string_view name);

class HostsFile {
 public:
  explicit HostsFile(std::string path) : path_(std::move(path)) {}

  // The addresses of `name` of `family` (AF_UNSPEC: both; IPv6 first), port 0;
  // empty when the file does not name it.
  std::vector<SocketAddress> Lookup(absl::string_view name, int family);

  const std::string& path() const { return path_; }

 private:
  void Refresh();

  std::string path_;
  bool loaded_ = false;
  off_t size_ = -1;
  timespec mtime_ = {};
  ino_t inode_ = 0;
  HostsMap names_;
};

}  // namespace corio::dns_internal

#endif  // CORIO_NET_DNS_HOSTS_FILE_H_
