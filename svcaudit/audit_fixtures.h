// Fixtures for the fetch service audit (//svcaudit): a FetchBackend with a gate
// the test opens, and a raw HTTP peer on loopback that answers every request
// with bytes the test chooses (a hostile or sloppy origin server), counting its
// connections.
//
//   auto gate = std::make_shared<corio::svcaudit::Gate>();
//   options.backend = corio::svcaudit::GatedBackendFactory(gate);  //
//   "http://gate.test/" waits gate->WaitForWaiting(1);  // a fetch is parked
//   gate->Open();             // every parked and future gate.test fetch
//   answers 200
//
//   corio::svcaudit::RawHttpPeer peer("HTTP/1.1 200 \xff\r\nContent-Length:
//   0\r\n\r\n"); peer.url("/x");           // "http://127.0.0.1:PORT/x"
//
// Threading: Gate is thread-safe; each backend runs on its loop. RawHttpPeer
// serves on its own thread and stops in its destructor.
#ifndef CORIO_SVCAUDIT_AUDIT_FIXTURES_H_
#define CORIO_SVCAUDIT_AUDIT_FIXTURES_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "loop/event_loop.h"
#include "net/fetch/backend.h"

namespace corio::svcaudit {

class Gate {
public:
  void Open();
  // Blocks until `n` fetches wait at the gate (false after `timeout`).
  bool WaitForWaiting(int n, absl::Duration timeout = absl::Seconds(30));
  bool
  WaitForIdle(absl::Duration timeout = absl::Seconds(30)); // no fetch running
  bool WaitForStarted(int n, absl::Duration timeout = absl::Seconds(30));
  int started() const;
  int cancelled() const;

  // For the backend: false when the gate is already open.
  bool Park(EventLoop *loop, std::function<void()> wake);
  void OnStart();
  void OnEnd(bool cancelled);
  void OnUnpark();

private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0, running_ = 0, started_ = 0, cancelled_ = 0;
  std::vector<std::pair<EventLoop *, std::function<void()>>> parked_;
};

// http://gate.test/...: waits for the gate; http://big.test/N: N bytes;
// anything else: 200 "ok". Every response has reason "OK".
fetch::BackendFactory GatedBackendFactory(std::shared_ptr<Gate> gate);

class RawHttpPeer {
public:
  explicit RawHttpPeer(std::string response);
  ~RawHttpPeer();
  RawHttpPeer(const RawHttpPeer &) = delete;
  RawHttpPeer &operator=(const RawHttpPeer &) = delete;

  int port() const { return port_; }
  std::string url(const std::string &path) const;
  int connections() const { return connections_.load(); }

private:
  void Serve();
  const std::string response_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace corio::svcaudit

#endif // CORIO_SVCAUDIT_AUDIT_FIXTURES_H_
