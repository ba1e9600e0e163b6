#include "net/http/shared_limits.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "loop/event_loop.h"
#include "net/http/internal/shared_limits_impl.h"
#include "tasks/event.h"

namespace corio::http {
namespace http_internal {

struct SharedSemaphore::Node {
  EventLoop* loop = nullptr;
  Event event;           // touched on `loop`'s thread only
  bool granted = false;  // guarded by State::mu
};

struct SharedSemaphore::State {
  mutable std::mutex mu;
  int64_t permits = 0;
  std::deque<std::shared_ptr<Node>> waiters;
};

SharedSemaphore::SharedSemaphore(int64_t permits) : state_(std::make_shared<State>()) {
  state_->permits = permits;
}
SharedSemaphore::~SharedSemaphore() = default;

int64_t SharedSemaphore::available() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->permits;
}

Task<absl::Status> SharedSemaphore::Acquire() {
  std::shared_ptr<State> state = state_;
  std::shared_ptr<Node> node;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->permits > 0 && state->waiters.empty()) {
      --state->permits;
      co_return absl::OkStatus();
    }
    node = std::make_shared<Node>();
    node->loop = EventLoop::Current();
    state->waiters.push_back(node);
  }
  absl::Status s = co_await node->event.Wait();
  if (s.ok()) co_return s;
  bool granted;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    granted = node->granted;
    if (!granted) {
      auto it = std::find(state->waiters.begin(), state->waiters.end(), node);
      if (it != state->waiters.end()) state->waiters.erase(it);
    }
  }
  if (granted) Release();  // it was handed to us as we were cancelled: pass it on
  co_return s;
}

void SharedSemaphore::Release() {
  std::shared_ptr<Node> node;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->waiters.empty()) {
      ++state_->permits;
      return;
    }
    node = std::move(state_->waiters.front());
    state_->waiters.pop_front();
    node->granted = true;
  }
  EventLoop* loop = node->loop;
  if (loop == EventLoop::Current()) {
    node->event.Set();
  } else {
    loop->CallSoonThreadSafe([node = std::move(node)] { node->event.Set(); });
  }
}

SharedLimitsImpl::SharedLimitsImpl(int limit, int limit_per_host)
    : limit_(limit), limit_per_host_(limit_per_host), total_(limit) {}

SharedSemaphore* SharedLimitsImpl::HostSem(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Host& h = hosts_[key];
  if (h.sem == nullptr) h.sem = std::make_unique<SharedSemaphore>(limit_per_host_);
  ++h.users;
  return h.sem.get();
}

void SharedLimitsImpl::DropHostUser(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hosts_.find(key);
  if (it != hosts_.end() && --it->second.users == 0) hosts_.erase(it);
}

Task<absl::Status> SharedLimitsImpl::Acquire(const std::string& key) {
  SharedSemaphore* host = nullptr;
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

void SharedLimitsImpl::Release(const std::string& key) {
  total_.Release();
  if (limit_per_host_ > 0) {
    SharedSemaphore* host;
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
