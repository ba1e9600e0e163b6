#include "net/dns/resolver.h"

#include <ares.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "loop/event_loop.h"
#include "net/dns/hosts_file.h"
#include "tasks/task.h"

namespace corio::dns {
namespace {

using Addresses = std::vector<SocketAddress>;

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

absl::Status AresError(int status, absl::string_view host) {
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
      return absl::NotFoundError(absl::StrCat("dns: no such host \"", host, "\""));
    case ARES_ENODATA:
      return absl::NotFoundError(absl::StrCat("dns: \"", host, "\" has no addresses"));
    case ARES_ETIMEOUT:
      return absl::DeadlineExceededError(absl::StrCat("dns: timed out resolving \"", host, "\""));
    case ARES_ESERVFAIL:
      return absl::UnavailableError(absl::StrCat("dns: server failure resolving \"", host, "\""));
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED:
      return absl::UnavailableError(absl::StrCat("dns: server refused to resolve \"", host, "\""));
    case ARES_EBADNAME:
      return absl::InvalidArgumentError(absl::StrCat("dns: invalid host name \"", host, "\""));
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return absl::CancelledError(absl::StrCat("dns: lookup of \"", host, "\" cancelled"));
    case ARES_ENOMEM:
      return absl::ResourceExhaustedError("dns: out of memory");
    default:
      return absl::UnavailableError(
          absl::StrCat("dns: resolving \"", host, "\": ", ares_strerror(status)));
  }
}

// RFC 6761 §6.3: "localhost." and every name under it are the loopback host.
bool IsLocalhostName(absl::string_view host) {
  const std::string name = dns_internal::CanonicalHostName(host);
  return name == "localhost" || (name.size() > 10 && absl::EndsWith(name, ".localhost"));
}

}  // namespace

// One c-ares query, shared by every task awaiting the same (host, family).
struct Lookup;

// A task awaiting a Lookup.
struct LookupWaiter : tasks_internal::CancelHandler {
  LookupWaiter() : CancelHandler{&OnCancel} {}
  LookupWaiter(const LookupWaiter&) = delete;
  LookupWaiter& operator=(const LookupWaiter&) = delete;
  ~LookupWaiter();  // a frame destroyed while waiting leaves its lookup
  static void OnCancel(tasks_internal::CancelHandler* self);
  // Unregisters from the lookup (precondition: registered).
  void Leave();

  Lookup* lookup = nullptr;  // while registered
  std::coroutine_handle<> handle;
  EventLoop* loop = nullptr;  // the waiting task's loop, where it is resumed (running or not)
  tasks_internal::PromiseBase* root = nullptr;
  absl::StatusOr<Addresses> result = absl::UnknownError("unset");
  bool woken = false;
};

class Resolver::Impl {
 public:
  struct CacheEntry {
    absl::StatusOr<Addresses> value;
    absl::Time expires;
  };

  Impl(EventLoop& loop, ResolverOptions options) : loop_(loop), options_(std::move(options)) {
    if (options_.use_hosts_file && !options_.hosts_file.empty()) {
      hosts_ = std::make_unique<dns_internal::HostsFile>(options_.hosts_file);
    }
  }
  ~Impl();

  absl::Status Init();
  void RearmTimer();
  static void SockStateCb(void* data, ares_socket_t fd, int readable, int writable);
  static void OnAddrInfo(void* arg, int status, int timeouts, ares_addrinfo* res);
  void Complete(Lookup* l, absl::StatusOr<Addresses> result, absl::Duration ttl);
  // Stops offering `l` to new Resolve calls (if it still is).
  void ForgetInflight(Lookup* l);

  EventLoop& loop_;
  ResolverOptions options_;
  ares_channel channel_ = nullptr;
  std::map<int, FdWatcher> watchers_;
  TimerHandle timer_;
  absl::flat_hash_map<std::string, CacheEntry> cache_;
  absl::flat_hash_map<std::string, Lookup*> inflight_;
  ResolverStats* stats_ = nullptr;
  std::unique_ptr<dns_internal::HostsFile> hosts_;  // null: no hosts file
};

struct Lookup {
  Resolver::Impl* impl;
  std::string key;
  std::string host;
  std::vector<LookupWaiter*> waiters;
  TimerHandle deadline;
};

void LookupWaiter::Leave() {
  auto& ws = lookup->waiters;
  ws.erase(std::remove(ws.begin(), ws.end(), this), ws.end());
  lookup = nullptr;
}

void LookupWaiter::OnCancel(tasks_internal::CancelHandler* self) {
  auto* w = static_cast<LookupWaiter*>(self);
  if (w->lookup == nullptr) return;
  w->Leave();
  w->result = absl::CancelledError("dns: lookup cancelled");
  w->woken = true;
  w->loop->CallSoon(w->handle);
}

LookupWaiter::~LookupWaiter() {
  if (lookup != nullptr) Leave();
  tasks_internal::Disarm(root, this);
}

// Wakes every waiter of `l` with `result` (the lookup itself lives on until c-ares is done).
static void WakeAll(Lookup* l, const absl::StatusOr<Addresses>& result) {
  for (LookupWaiter* w : l->waiters) {
    w->lookup = nullptr;
    w->result = result;
    w->woken = true;
    tasks_internal::Disarm(w->root, w);
    // Onto the waiter's own loop, also when none is running on this thread (the resolver is
    // being destroyed after its loop stopped, or by ~EventLoop as loop-local state).
    if (w->handle) w->loop->CallSoon(w->handle);  // else: not suspended yet
  }
  l->waiters.clear();
}

absl::Status Resolver::Impl::Init() {
  InitLibraryOnce();
  ares_options opts;
  std::memset(&opts, 0, sizeof opts);
  int mask = 0;
  opts.sock_state_cb = &SockStateCb;
  opts.sock_state_cb_data = this;
  mask |= ARES_OPT_SOCK_STATE_CB;
  opts.timeout = static_cast<int>(absl::ToInt64Milliseconds(options_.try_timeout));
  mask |= ARES_OPT_TIMEOUTMS;
  opts.tries = std::max(1, options_.tries);
  mask |= ARES_OPT_TRIES;
  // The hosts file is corio's (HostsFile, at the configured path); c-ares only asks servers.
  char lookups[] = "b";
  opts.lookups = lookups;
  mask |= ARES_OPT_LOOKUPS;
  const int rc = ares_init_options(&channel_, &opts, mask);
  if (rc != ARES_SUCCESS) {
    return absl::UnavailableError(
        absl::StrCat("dns: cannot initialize c-ares: ", ares_strerror(rc)));
  }
  if (!options_.servers.empty()) {
    std::vector<std::string> servers;
    for (const SocketAddress& s : options_.servers) servers.push_back(s.ToString());
    const std::string csv = absl::StrJoin(servers, ",");
    const int src = ares_set_servers_ports_csv(channel_, csv.c_str());
    if (src != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("dns: bad server list \"", csv, "\": ", ares_strerror(src)));
    }
  }
  return absl::OkStatus();
}

Resolver::Impl::~Impl() {
  timer_.Cancel();
  for (auto& [key, l] : inflight_) {
    WakeAll(l, absl::CancelledError("dns: resolver shut down"));
    l->deadline.Cancel();
  }
  // Completes every pending query (ARES_EDESTRUCTION) and closes the sockets.
  if (channel_ != nullptr) ares_destroy(channel_);
  watchers_.clear();
}

void Resolver::Impl::SockStateCb(void* data, ares_socket_t fd, int readable, int writable) {
  auto* impl = static_cast<Impl*>(data);
  if (!readable && !writable) {
    impl->watchers_.erase(fd);
    return;
  }
  const uint32_t interest = (readable ? io::kReadable : 0) | (writable ? io::kWritable : 0);
  auto it = impl->watchers_.find(fd);
  if (it != impl->watchers_.end()) {
    (void)it->second.SetInterest(interest);
    return;
  }
  absl::StatusOr<FdWatcher> w =
      FdWatcher::Start(impl->loop_, fd, interest, [impl, fd](uint32_t ready) {
        const bool in = ready & (io::kReadable | io::kError | io::kHangup);
        const bool out = ready & io::kWritable;
        ares_process_fd(impl->channel_, in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
        impl->RearmTimer();
      });
  if (w.ok()) impl->watchers_.emplace(fd, *std::move(w));
}

void Resolver::Impl::RearmTimer() {
  // ares_timeout walks every pending query, so it is not asked after every event: a pending
  // timer can only be early (queries get later deadlines than those it was computed for, and
  // finished ones only remove deadlines), and an early one just asks again when it fires.
  if (timer_.pending()) return;
  timeval tv;
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) return;  // nothing pending
  const absl::Duration in = absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
  timer_ = loop_.CallLater(in, [this] {
    timer_ = TimerHandle();
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
    RearmTimer();
  });
}

void Resolver::Impl::OnAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  auto* l = static_cast<Lookup*>(arg);
  absl::StatusOr<Addresses> result;
  absl::Duration ttl = absl::InfiniteDuration();
  if (status == ARES_SUCCESS && res != nullptr) {
    Addresses v6, v4;
    for (ares_addrinfo_node* n = res->nodes; n != nullptr; n = n->ai_next) {
      absl::StatusOr<SocketAddress> a =
          SocketAddress::FromSockaddr(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen));
      if (!a.ok()) continue;
      Addresses& into = a->is_v6() ? v6 : v4;
      if (std::find(into.begin(), into.end(), *a) == into.end()) into.push_back(*a);
      ttl = std::min(ttl, absl::Seconds(std::max(0, n->ai_ttl)));
    }
    for (ares_addrinfo_cname* c = res->cnames; c != nullptr; c = c->next) {
      ttl = std::min(ttl, absl::Seconds(std::max(0, c->ttl)));
    }
    v6.insert(v6.end(), v4.begin(), v4.end());
    if (v6.empty()) {
      result = AresError(ARES_ENODATA, l->host);
    } else {
      result = std::move(v6);
    }
  } else {
    result = AresError(status, l->host);
  }
  if (res != nullptr) ares_freeaddrinfo(res);
  l->impl->Complete(l, std::move(result), ttl);
  delete l;
}

void Resolver::Impl::Complete(Lookup* l, absl::StatusOr<Addresses> result, absl::Duration ttl) {
  l->deadline.Cancel();
  ForgetInflight(l);
  // Cache answers for their TTL, "no such host" for the negative TTL, nothing else.
  if (options_.cache_entries > 0 && !absl::IsCancelled(result.status())) {
    absl::Duration keep = absl::ZeroDuration();
    if (result.ok()) {
      keep = std::min(ttl, options_.max_ttl);
    } else if (absl::IsNotFound(result.status())) {
      keep = options_.negative_ttl;
    }
    if (keep > absl::ZeroDuration()) {
      if (cache_.size() >= options_.cache_entries) cache_.erase(cache_.begin());
      cache_[l->key] = CacheEntry{result, loop_.Now() + keep};
    }
  }
  WakeAll(l, result);
}

void Resolver::Impl::ForgetInflight(Lookup* l) {
  auto it = inflight_.find(l->key);
  if (it != inflight_.end() && it->second == l) inflight_.erase(it);
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->stats_ = &stats_; }
Resolver::~Resolver() = default;

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create() { return Create(ResolverOptions()); }

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create(ResolverOptions options) {
  EventLoop* loop = EventLoop::Current();
  if (loop == nullptr) {
    return absl::FailedPreconditionError("dns::Resolver needs a running event loop on this thread");
  }
  auto impl = std::make_unique<Impl>(*loop, std::move(options));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

void Resolver::ClearCache() { impl_->cache_.clear(); }

namespace {

// Awaits a LookupWaiter already registered on its Lookup.
struct WaitFor {
  LookupWaiter& w;
  bool await_ready() const noexcept { return w.woken; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) {
    w.root = tasks_internal::RootOf(h);
    w.handle = h;
    w.loop = EventLoop::Current();
    if (w.loop == nullptr) w.loop = &w.lookup->impl->loop_;
    if (tasks_internal::IsCancelled(w.root)) {
      LookupWaiter::OnCancel(&w);  // leaves the lookup, schedules our resumption
      return true;
    }
    tasks_internal::Arm(w.root, &w);
    return true;
  }
  void await_resume() noexcept { tasks_internal::Disarm(w.root, &w); }
};

Addresses WithPort(Addresses addrs, uint16_t port) {
  for (SocketAddress& a : addrs) a.set_port(port);
  return addrs;
}

}  // namespace

Task<absl::StatusOr<std::vector<SocketAddress>>> Resolver::Resolve(std::string host, uint16_t port,
                                                                   int family) {
  ++stats_.lookups;
  // Numeric hosts need no query ("[::1]" too).
  absl::string_view ip = host;
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (absl::StatusOr<SocketAddress> a = SocketAddress::FromIp(ip, port); a.ok()) {
    if (family != AF_UNSPEC && a->family() != family) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("dns: \"", host, "\" is not an address of the requested family"));
    }
    co_return Addresses{*a};
  }
  if (host.empty() || host.size() > 253 || std::any_of(host.begin(), host.end(), [](char c) {
        return static_cast<unsigned char>(c) <= ' ' || c == 0x7F;
      })) {
    co_return absl::InvalidArgumentError(absl::StrCat("dns: invalid host name \"", host, "\""));
  }
  if (IsLocalhostName(host)) {
    Addresses loopback;
    if (family != AF_INET) loopback.push_back(SocketAddress::Loopback6(port));
    if (family != AF_INET6) loopback.push_back(SocketAddress::Loopback4(port));
    co_return loopback;
  }
  Impl& impl = *impl_;
  if (impl.hosts_ != nullptr) {
    Addresses listed = impl.hosts_->Lookup(host, family);
    if (!listed.empty()) co_return WithPort(std::move(listed), port);
  }
  const std::string key = absl::StrCat(absl::AsciiStrToLower(host), "/", family);
  if (auto it = impl.cache_.find(key); it != impl.cache_.end()) {
    if (it->second.expires > impl.loop_.Now()) {
      ++stats_.cache_hits;
      if (!it->second.value.ok()) co_return it->second.value.status();
      co_return WithPort(*it->second.value, port);
    }
    impl.cache_.erase(it);
  }
  LookupWaiter waiter;
  if (auto it = impl.inflight_.find(key); it != impl.inflight_.end()) {
    ++stats_.shared;
    waiter.lookup = it->second;
    it->second->waiters.push_back(&waiter);
  } else {
    ++stats_.queries;
    auto* l = new Lookup{&impl, key, host, {&waiter}, {}};
    waiter.lookup = l;
    impl.inflight_[key] = l;
    if (impl.options_.lookup_timeout != absl::InfiniteDuration()) {
      l->deadline = impl.loop_.CallLater(impl.options_.lookup_timeout, [&impl, l] {
        // Give up on this lookup for its waiters; c-ares finishes it later (and it is freed
        // then). A new Resolve starts a fresh query.
        impl.ForgetInflight(l);
        WakeAll(l, AresError(ARES_ETIMEOUT, l->host));
      });
    }
    ares_addrinfo_hints hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NOSORT;  // corio orders addresses itself (Happy Eyeballs)
    ares_getaddrinfo(impl.channel_, host.c_str(), nullptr, &hints, &Impl::OnAddrInfo, l);
    impl.RearmTimer();
  }
  co_await WaitFor{waiter};
  if (!waiter.result.ok()) co_return waiter.result.status();
  co_return WithPort(*std::move(waiter.result), port);
}

}  // namespace corio::dns
