#include "net/http/internal/pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace corio::http::http_internal {

// ---- Pool ----

Pool::Pool(const ClientOptions& options)
    : limit_per_host_(std::max(0, options.limit_per_host)),
      max_idle_per_host_(std::max(0, options.max_idle_per_host)),
      idle_timeout_(options.idle_timeout),
      shared_(options.shared_limits),
      total_(std::max(1, options.limit)),
      resolver_(options.resolver),
      tls_options_(options.tls) {}

Pool::~Pool() { CloseIdle(); }

Pool::Host& Pool::HostFor(const std::string& key) {
  Host& h = hosts_[key];
  if (h.sem == nullptr && limit_per_host_ > 0 && shared_ == nullptr) {
    h.sem = std::make_unique<Semaphore>(limit_per_host_);
  }
  return h;
}

void Pool::MaybeForget(const std::string& key) {
  auto it = hosts_.find(key);
  if (it != hosts_.end() && it->second.users == 0 && it->second.idle.empty()) hosts_.erase(it);
}

Task<absl::Status> Pool::AcquirePermit(const std::string& key) {
  Host& h = HostFor(key);  // node_hash_map: stable while users > 0
  ++h.users;
  if (shared_ != nullptr) {
    absl::Status s = co_await shared_->impl_->Acquire(key);
    if (!s.ok()) {
      --h.users;
      MaybeForget(key);
      co_return s;
    }
  } else {
    if (h.sem != nullptr) {
      absl::Status s = co_await h.sem->Acquire();
      if (!s.ok()) {
        --h.users;
        MaybeForget(key);
        co_return s;
      }
    }
    absl::Status s = co_await total_.Acquire();
    if (!s.ok()) {
      if (h.sem != nullptr) h.sem->Release();
      --h.users;
      MaybeForget(key);
      co_return s;
    }
  }
  ++stats_.active_connections;
  co_return absl::OkStatus();
}

bool Pool::TryAcquirePermit(const std::string& key) {
  Host& h = HostFor(key);
  if (shared_ != nullptr) {
    if (!shared_->impl_->TryAcquire(key)) {
      MaybeForget(key);
      return false;
    }
  } else {
    if (h.sem != nullptr && !h.sem->TryAcquire()) {
      MaybeForget(key);
      return false;
    }
    if (!total_.TryAcquire()) {
      if (h.sem != nullptr) h.sem->Release();
      MaybeForget(key);
      return false;
    }
  }
  ++h.users;
  ++stats_.active_connections;
  return true;
}

void Pool::ReleasePermit(const std::string& key) {
  auto it = hosts_.find(key);
  if (shared_ != nullptr) {
    shared_->impl_->Release(key);
  } else {
    total_.Release();
    if (it != hosts_.end() && it->second.sem != nullptr) it->second.sem->Release();
  }
  --stats_.active_connections;
  if (it != hosts_.end()) {
    --it->second.users;
    MaybeForget(key);
  }
}

std::unique_ptr<Connection> Pool::TakeIdle(const std::string& key, bool replayable) {
  auto it = hosts_.find(key);
  if (it == hosts_.end()) return nullptr;
  const absl::Time now = EventLoop::Current()->Now();
  MaybeSweep(now);
  std::vector<std::unique_ptr<Connection>>& idle = it->second.idle;
  while (!idle.empty()) {
    std::unique_ptr<Connection> c = std::move(idle.back());
    idle.pop_back();
    --idle_total_;
    const absl::Duration idle = now - c->idle_since();
    if (idle < idle_timeout_ && ((replayable && idle < kFreshIdle) || c->IsIdleUsable())) {
      ++stats_.connections_reused;
      return c;
    }
    Discard(std::move(c));
  }
  return nullptr;
}

void Pool::PutIdle(std::unique_ptr<Connection> conn) {
  if (closed_ || max_idle_per_host_ == 0) {
    Discard(std::move(conn));
    return;
  }
  const absl::Time now = EventLoop::Current()->Now();
  MaybeSweep(now);
  const std::string& key = conn->key();
  Host& h = HostFor(key);
  if (static_cast<int>(h.idle.size()) >= max_idle_per_host_) {
    Discard(std::move(h.idle.front()));
    h.idle.erase(h.idle.begin());
    --idle_total_;
  }
  conn->set_idle_since(now);
  h.idle.push_back(std::move(conn));
  ++idle_total_;
}

void Pool::Discard(std::unique_ptr<Connection> conn) {
  if (conn == nullptr) return;
  ++stats_.connections_closed;
  conn.reset();
}

void Pool::MaybeSweep(absl::Time now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + idle_timeout_ / 2;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    std::vector<std::unique_ptr<Connection>>& idle = it->second.idle;
    size_t keep = 0;
    for (size_t i = 0; i < idle.size(); ++i) {
      if (now - idle[i]->idle_since() >= idle_timeout_) {
        Discard(std::move(idle[i]));
        --idle_total_;
      } else {
        idle[keep++] = std::move(idle[i]);
      }
    }
    idle.resize(keep);
    if (it->second.users == 0 && idle.empty()) {
      hosts_.erase(it++);
    } else {
      ++it;
    }
  }
}

void Pool::CloseIdle() {
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    for (auto& c : it->second.idle) Discard(std::move(c));
    idle_total_ -= static_cast<int>(it->second.idle.size());
    it->second.idle.clear();
    if (it->second.users == 0) {
      hosts_.erase(it++);
    } else {
      ++it;
    }
  }
}

void Pool::Close() {
  closed_ = true;
  CloseIdle();
}

absl::StatusOr<dns::Resolver*> Pool::resolver() {
  if (resolver_ != nullptr) return resolver_;
  absl::StatusOr<std::unique_ptr<dns::Resolver>> r = dns::Resolver::Create();
  if (!r.ok()) return r.status();
  own_resolver_ = *std::move(r);
  resolver_ = own_resolver_.get();
  return resolver_;
}

absl::StatusOr<std::shared_ptr<tls::TlsContext>> Pool::tls_context() {
  if (tls_ != nullptr) return tls_;
  tls::ClientOptions o;
  o.ca_file = tls_options_.ca_file;
  o.insecure = tls_options_.insecure;
  absl::StatusOr<std::shared_ptr<tls::TlsContext>> ctx = tls::TlsContext::CreateClient(o);
  if (!ctx.ok()) return ctx.status();
  tls_ = *std::move(ctx);
  return tls_;
}

}  // namespace corio::http::http_internal
