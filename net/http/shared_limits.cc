#include "net/http/shared_limits.h"

#include <algorithm>
#include <utility>

#include "net/http/internal/shared_limits_impl.h"

namespace corio::http {
namespace http_internal {

SharedLimitsImpl::SharedLimitsImpl(int limit, int limit_per_host)
    : limit_(limit), limit_per_host_(limit_per_host), total_(limit) {}

corio::SharedSemaphore* SharedLimitsImpl::HostSem(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Host& h = hosts_[key];
  if (h.sem == nullptr) h.sem = std::make_unique<corio::SharedSemaphore>(limit_per_host_);
  ++h.users;
  return h.sem.get();
}

void SharedLimitsImpl::DropHostUser(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hosts_.find(key);
  if (it != hosts_.end() && --it->second.users == 0) hosts_.erase(it);
}

Task<absl::Status> SharedLimitsImpl::Acquire(std::string key) {
  corio::SharedSemaphore* host = nullptr;
  if (limit_per_host_ > 0) {
    host = HostSem(key);
    absl::Status s = co_await host->Acquire();
    if (!s.ok()) {
      DropHostUser(key);
      co_return s;
    }
  }
  absl::Status s = co_await total_.Acquire();
  if (!s.ok() && host != nullptr) {
    host->Release();
    DropHostUser(key);
  }
  co_return s;
}

bool SharedLimitsImpl::TryAcquire(const std::string& key) {
  corio::SharedSemaphore* host = nullptr;
  if (limit_per_host_ > 0) {
    host = HostSem(key);
    if (!host->TryAcquire()) {
      DropHostUser(key);
      return false;
    }
  }
  if (!total_.TryAcquire()) {
    if (host != nullptr) {
      host->Release();
      DropHostUser(key);
    }
    return false;
  }
  return true;
}

void SharedLimitsImpl::Release(const std::string& key) {
  total_.Release();
  if (limit_per_host_ > 0) {
    corio::SharedSemaphore* host;
    {
      std::lock_guard<std::mutex> lock(mu_);
      host = hosts_[key].sem.get();
    }
    host->Release();
    DropHostUser(key);
  }
}

int SharedLimitsImpl::in_use() const { return limit_ - static_cast<int>(total_.available()); }

}  // namespace http_internal

SharedLimits::SharedLimits(std::unique_ptr<http_internal::SharedLimitsImpl> impl)
    : impl_(std::move(impl)) {}
SharedLimits::~SharedLimits() = default;
std::shared_ptr<SharedLimits> SharedLimits::Create(int limit, int limit_per_host) {
  return std::shared_ptr<SharedLimits>(
      new SharedLimits(std::make_unique<http_internal::SharedLimitsImpl>(
          std::max(1, limit), std::max(0, limit_per_host))));
}
int SharedLimits::limit() const { return impl_->limit(); }
int SharedLimits::limit_per_host() const { return impl_->limit_per_host(); }
int SharedLimits::in_use() const { return impl_->in_use(); }

}  // namespace corio::http
