// SharedSemaphore and SharedLimitsImpl (internal to the HTTP client): the
// cross-loop counting semaphore behind SharedLimits — a mutex-guarded count and
// FIFO of waiters, each waiter resumed on its own loop (CallSoonThreadSafe), a
// cancelled waiter leaving the queue or passing on a permit handed to it as it
// was cancelled. Threading: thread-safe; Acquire on a thread running an
// EventLoop.
#ifndef CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_
#define CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "tasks/task.h"

namespace corio::http::http_internal {

// A cross-loop counting semaphore: waiters queue FIFO and are resumed on their
// own loops.
class SharedSemaphore {
 public:
  explicit SharedSemaphore(int64_t permits);
  ~SharedSemaphore();
  Task<absl::Status> Acquire();
  void Release();
  int64_t available() const;

 private:
  struct Node;
  struct State;
  std::shared_ptr<State> state_;
};

class SharedLimitsImpl {
 public:
  SharedLimitsImpl(int limit, int limit_per_host);
  Task<absl::Status> Acquire(const std::string& key);
  void Release(const std::string& key);
  int limit() const { return limit_; }
  int limit_per_host() const { return limit_per_host_; }
  int in_use() const;

 private:
  struct Host {
    std::unique_ptr<SharedSemaphore> sem;
    int users = 0;
  };
  SharedSemaphore* HostSem(const std::string& key);
  void DropHostUser(const std::string& key);

  const int limit_;
  const int limit_per_host_;
  SharedSemaphore total_;
  mutable std::mutex mu_;
  absl::node_hash_map<std::string, Host> hosts_;
};

}  // namespace corio::http::http_internal

#endif  // CORIO_NET_HTTP_INTERNAL_SHARED_LIMITS_IMPL_H_
