// FetchBackend: what performs one fetch of the fetch service, on one event loop. The service
// runs one backend per loop of its LoopGroup; the production backend (http_backend.h) is a
// corio::http::Client, tests plug in scripted ones.
//
//   class EchoBackend : public corio::fetch::FetchBackend {
//     corio::Task<absl::Status> Fetch(const v1::FetchRequest& req, absl::Time deadline,
//                                     v1::FetchResponse& out) override {
//       out.set_status(200);
//       out.set_final_url(req.url());
//       co_return absl::OkStatus();
//     }
//   };
//   corio::fetch::BackendFactory factory = [](corio::EventLoop&) {
//     return std::make_unique<EchoBackend>();
//   };
//
// Completion contract of Fetch: resumes its awaiter once, on the backend's loop thread, when
// the fetch is over: OK with `out` filled (everything but `index`, `error` and
// `timing.queued`, which the service owns), or the fetch's error (`out` may then hold what
// was known: a status and headers when the body failed). Cancelling the awaiting task cancels
// the fetch (its connection is closed) and Fetch returns CANCELLED. It never runs past
// `deadline` (DEADLINE_EXCEEDED), a time on the loop's clock (EventLoop::Now()).
// Threading: a backend is created, used and destroyed on its loop's thread.
// Ownership: `request` and `out` outlive the Fetch call (the service keeps them in the
// fetch's frame).
#ifndef CORIO_NET_FETCH_BACKEND_H_
#define CORIO_NET_FETCH_BACKEND_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "net/fetch/fetch.pb.h"
#include "tasks/task.h"

namespace corio::fetch {

class FetchBackend {
 public:
  virtual ~FetchBackend() = default;
  virtual Task<absl::Status> Fetch(const v1::FetchRequest& request, absl::Time deadline,
                                   v1::FetchResponse& out) = 0;
};

// Makes the backend of one loop; called on that loop's thread.
using BackendFactory =
    std::function<absl::StatusOr<std::unique_ptr<FetchBackend>>(EventLoop& loop)>;

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_BACKEND_H_
