// SharedLimitsImpl (internal to the HTTP client): what SharedLimits is made of — a
// corio::corio::SharedSemaphore for the total and one per host (created on first use, forgotten
// when no request of that host holds or waits for a permit), permits taken per host first.
// Threading: thread-safe; Acquire on a thread running an EventLoop.
#ifndef CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_
#define CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "tasks/shared_semaphore.h"
#include "tasks/task.h"

namespace corio::http::http_internal {

// A cross-loop counting semaphore: waiters queue FIFO and are resumed on their
// own loops.
class SharedLimitsImpl {
 public:
  SharedLimitsImpl(int limit, int limit_per_host);
  Task<absl::Status> Acquire(std::string key);  // by value: a coroutine parameter
  // Takes the permits now if they are free and nobody is queued for them; never suspends.
  bool TryAcquire(const std::string& key);
  void Release(const std::string& key);
  int limit() const { return limit_; }
  int limit_per_host() const { return limit_per_host_; }
  int in_use() const;

 private:
  struct Host {
    std::unique_ptr<corio::SharedSemaphore> sem;
    int users = 0;
  };
  corio::SharedSemaphore* HostSem(const std::string& key);
  void DropHostUser(const std::string& key);

  const int limit_;
  const int limit_per_host_;
  corio::SharedSemaphore total_;
  mutable std::mutex mu_;
  absl::node_hash_map<std::string, Host> hosts_;
};

}  // namespace corio::http::http_internal

#endif  // CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_
