// SharedLimits: request limits shared by the Clients of several event loops
// (one Client per loop of a LoopGroup), so that `limit` and `limit_per_host`
// hold across all of them together.
//
//   auto limits = corio::http::SharedLimits::Create(/*limit=*/64,
//   /*limit_per_host=*/8);
//   // on each loop of the group:
//   corio::http::ClientOptions options;
//   options.shared_limits = limits;
//   corio::http::Client client(options);
//
// The Clients' own limit fields are then ignored. A request waiting for a
// permit is resumed on its own loop (FIFO across loops); a cancelled waiter
// leaves the queue, or passes on a permit handed to it as it was cancelled.
// Threading: thread-safe. Ownership: shared (std::shared_ptr) by the Clients
// and their Responses; destroy it after every loop using it stopped.
#ifndef CORIO_NET_HTTP_SHARED_LIMITS_H_
#define CORIO_NET_HTTP_SHARED_LIMITS_H_

#include <memory>

namespace corio::http {

namespace http_internal {
class Pool;
class SharedLimitsImpl;
}  // namespace http_internal

class SharedLimits {
 public:
  // limit_per_host 0: no per-host bound.
  static std::shared_ptr<SharedLimits> Create(int limit, int limit_per_host);
  ~SharedLimits();
  int limit() const;
  int limit_per_host() const;
  // Permits currently held (requests in flight across every Client using this).
  int in_use() const;

 private:
  friend class http_internal::Pool;
  explicit SharedLimits(std::unique_ptr<http_internal::SharedLimitsImpl> impl);
  std::unique_ptr<http_internal::SharedLimitsImpl> impl_;
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_SHARED_LIMITS_H_
