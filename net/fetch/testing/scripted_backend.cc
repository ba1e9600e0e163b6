#include "net/fetch/testing/scripted_backend.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/http/url.h"
#include "tasks/event.h"
#include "tasks/sleep.h"
#include "tasks/with_timeout.h"

namespace corio::fetch::testing {

int ScriptedStats::started() const {
  std::lock_guard<std::mutex> l(mu_);
  return started_;
}
int ScriptedStats::running() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_;
}
int ScriptedStats::max_running() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_running_;
}
int ScriptedStats::cancelled() const {
  std::lock_guard<std::mutex> l(mu_);
  return cancelled_;
}
int ScriptedStats::deadlines() const {
  std::lock_guard<std::mutex> l(mu_);
  return deadlines_;
}

void ScriptedStats::OnStart() {
  std::lock_guard<std::mutex> l(mu_);
  ++started_;
  ++running_;
  max_running_ = std::max(max_running_, running_);
  cv_.notify_all();
}

void ScriptedStats::OnEnd(const absl::Status& status) {
  std::lock_guard<std::mutex> l(mu_);
  --running_;
  if (absl::IsCancelled(status)) ++cancelled_;
  if (absl::IsDeadlineExceeded(status)) ++deadlines_;
  cv_.notify_all();
}

bool ScriptedStats::WaitFor(std::function<bool()> done, absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), done);
}
bool ScriptedStats::WaitForStarted(int n, absl::Duration timeout) {
  return WaitFor([&] { return started_ >= n; }, timeout);
}
bool ScriptedStats::WaitForRunning(int n, absl::Duration timeout) {
  return WaitFor([&] { return running_ >= n; }, timeout);
}
bool ScriptedStats::WaitForIdle(absl::Duration timeout) {
  return WaitFor([&] { return running_ == 0; }, timeout);
}
bool ScriptedStats::WaitForCancelled(int n, absl::Duration timeout) {
  return WaitFor([&] { return cancelled_ >= n; }, timeout);
}

void ScriptedStats::OpenGate() {
  std::vector<std::pair<EventLoop*, std::function<void()>>> waiters;
  {
    std::lock_guard<std::mutex> l(mu_);
    gate_open_ = true;
    waiters.swap(gate_waiters_);
  }
  for (auto& [loop, wake] : waiters) loop->CallSoonThreadSafe(std::move(wake));
}

bool ScriptedStats::AddGateWaiter(EventLoop* loop, std::function<void()> wake) {
  std::lock_guard<std::mutex> l(mu_);
  if (gate_open_) return false;
  gate_waiters_.emplace_back(loop, std::move(wake));
  return true;
}

namespace {

class ScriptedBackend final : public FetchBackend {
 public:
  explicit ScriptedBackend(std::shared_ptr<ScriptedStats> stats) : stats_(std::move(stats)) {}

  Task<absl::Status> Fetch(const v1::FetchRequest& request, absl::Time deadline,
                           v1::FetchResponse& out) override {
    stats_->OnStart();
    absl::Status s = co_await Script(request, deadline, out);
    stats_->OnEnd(s);
    co_return s;
  }

 private:
  Task<absl::Status> Script(const v1::FetchRequest& request, absl::Time deadline,
                            v1::FetchResponse& out) {
    absl::StatusOr<http::Url> url = http::ParseUrl(request.url());
    if (!url.ok()) co_return url.status();
    const std::string arg = url->path.substr(1);
    int n = 0;
    const bool numeric = absl::SimpleAtoi(arg, &n);
    if (url->host == "fail.test") {
      co_return absl::Status(static_cast<absl::StatusCode>(n),
                             absl::StrCat("scripted failure ", n));
    }
    if (url->host == "stall.test") {
      absl::Status slept = co_await SleepUntil(deadline);
      if (!slept.ok()) co_return slept;
      co_return absl::DeadlineExceededError(absl::StrCat("stall ", request.url()));
    }
    if (url->host == "gate.test") {
      // Shared with the wake-up, which runs on this loop (possibly after this fetch ended).
      auto gate = std::make_shared<Event>();
      auto wake = [gate] { gate->Set(); };
      if (stats_->AddGateWaiter(EventLoop::Current(), wake)) {
        auto until = WithDeadline(deadline, WaitFor(gate));
        absl::Status waited = co_await std::move(until);
        if (!waited.ok()) co_return waited;
      }
    }
    if (url->host == "slow.test" && numeric) {
      const absl::Time until = std::min(deadline, EventLoop::Current()->Now() + absl::Milliseconds(n));
      absl::Status slept = co_await SleepUntil(until);
      if (!slept.ok()) co_return slept;
      if (until == deadline) co_return absl::DeadlineExceededError("slow past its deadline");
    }
    if (url->host == "latin1.test" && arg == "fail") {
      co_return absl::UnavailableError("scripted failure: Gr\xfc\xdf" "e");
    }
    out.set_status(200);
    out.set_reason(url->host == "latin1.test" ? "Gr\xfc\xdf" "e" : "OK");
    if (url->host == "status.test" && numeric) out.set_status(n);
    std::string body = absl::StrCat("ok /", arg);
    if (url->host == "big.test" && numeric) body.assign(n, 'x');
    out.set_body_size(static_cast<int64_t>(body.size()));
    if (request.body_mode() != v1::BODY_MODE_SIZE_ONLY) out.set_body(std::move(body));
    out.set_final_url(url->ToString());
    co_return absl::OkStatus();
  }

  static Task<absl::Status> WaitFor(std::shared_ptr<Event> gate) {
    absl::Status s = co_await gate->Wait();
    co_return s;
  }

  std::shared_ptr<ScriptedStats> stats_;
};

}  // namespace

BackendFactory ScriptedBackendFactory(std::shared_ptr<ScriptedStats> stats) {
  return [stats](EventLoop&) -> absl::StatusOr<std::unique_ptr<FetchBackend>> {
    return std::make_unique<ScriptedBackend>(stats);
  };
}

}  // namespace corio::fetch::testing
