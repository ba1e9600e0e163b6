// ScriptedBackend: a FetchBackend for tests of the fetch service's gRPC and loop plumbing,
// scripted by the URL's host, with counters shared by the backends of every loop:
//
//   http://ok.test/PATH          200, body "ok PATH", final_url = the URL
//   http://status.test/404       that HTTP status (a response, not an error)
//   http://fail.test/CODE        fails with absl::StatusCode CODE ("scripted failure CODE")
//   http://slow.test/MS          200 after MS milliseconds
//   http://stall.test/           never answers: ends at its deadline (DEADLINE_EXCEEDED) or
//                                when cancelled (CANCELLED)
//   http://big.test/N            200 with a body of N bytes
//   http://gate.test/            200 once the test calls ScriptedStats::OpenGate() (or
//                                CANCELLED / DEADLINE_EXCEEDED first)
//   http://latin1.test/          200 with the reason phrase "Gr\xfc\xdfe" (ISO-8859-1, not
//                                UTF-8), as a sloppy origin sends it
//   http://latin1.test/fail      fails UNAVAILABLE with a message that is not UTF-8
//
//   auto stats = std::make_shared<ScriptedStats>();
//   options.backend = ScriptedBackendFactory(stats);
//   ... stats->WaitForRunning(2);     // blocks (condition variable) until 2 fetches run
//
// Threading: each backend on its loop's thread; ScriptedStats is thread-safe.
#ifndef CORIO_NET_FETCH_TESTING_SCRIPTED_BACKEND_H_
#define CORIO_NET_FETCH_TESTING_SCRIPTED_BACKEND_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "net/fetch/backend.h"

namespace corio::fetch::testing {

class ScriptedStats {
 public:
  int started() const;
  int running() const;
  int max_running() const;
  int cancelled() const;    // fetches that ended with CANCELLED
  int deadlines() const;    // fetches that ended at their deadline
  // Block until the condition holds or `timeout` passes; false on timeout.
  bool WaitForStarted(int n, absl::Duration timeout = absl::Seconds(30));
  bool WaitForRunning(int n, absl::Duration timeout = absl::Seconds(30));
  bool WaitForIdle(absl::Duration timeout = absl::Seconds(30));
  bool WaitForCancelled(int n, absl::Duration timeout = absl::Seconds(30));

  // Lets every gate.test fetch, waiting or future, complete.
  void OpenGate();

  // For the backend.
  void OnStart();
  void OnEnd(const absl::Status& status);
  // Registers a waiter's wake-up (run on its loop); false when the gate is already open.
  bool AddGateWaiter(EventLoop* loop, std::function<void()> wake);

 private:
  bool WaitFor(std::function<bool()> done, absl::Duration timeout);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0, running_ = 0, max_running_ = 0, cancelled_ = 0, deadlines_ = 0;
  bool gate_open_ = false;
  std::vector<std::pair<EventLoop*, std::function<void()>>> gate_waiters_;
};

BackendFactory ScriptedBackendFactory(std::shared_ptr<ScriptedStats> stats);

}  // namespace corio::fetch::testing

#endif  // CORIO_NET_FETCH_TESTING_SCRIPTED_BACKEND_H_
