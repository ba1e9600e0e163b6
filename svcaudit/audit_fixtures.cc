#include "svcaudit/audit_fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/http/url.h"
#include "tasks/event.h"
#include "tasks/with_timeout.h"

namespace corio::svcaudit {

void Gate::Open() {
  std::vector<std::pair<EventLoop *, std::function<void()>>> parked;
  {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    parked.swap(parked_);
  }
  for (auto &[loop, wake] : parked)
    loop->CallSoonThreadSafe(std::move(wake));
}

bool Gate::WaitForWaiting(int n, absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout),
                      [&] { return waiting_ >= n; });
}

bool Gate::WaitForIdle(absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout),
                      [&] { return running_ == 0; });
}

bool Gate::WaitForStarted(int n, absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout),
                      [&] { return started_ >= n; });
}

int Gate::started() const {
  std::lock_guard<std::mutex> l(mu_);
  return started_;
}

int Gate::cancelled() const {
  std::lock_guard<std::mutex> l(mu_);
  return cancelled_;
}

bool Gate::Park(EventLoop *loop, std::function<void()> wake) {
  std::lock_guard<std::mutex> l(mu_);
  if (open_)
    return false;
  parked_.emplace_back(loop, std::move(wake));
  ++waiting_;
  cv_.notify_all();
  return true;
}

void Gate::OnUnpark() {
  std::lock_guard<std::mutex> l(mu_);
  --waiting_;
  cv_.notify_all();
}

void Gate::OnStart() {
  std::lock_guard<std::mutex> l(mu_);
  ++started_;
  ++running_;
  cv_.notify_all();
}

void Gate::OnEnd(bool cancelled) {
  std::lock_guard<std::mutex> l(mu_);
  --running_;
  if (cancelled)
    ++cancelled_;
  cv_.notify_all();
}

namespace {

class GatedBackend final : public fetch::FetchBackend {
public:
  explicit GatedBackend(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}

  Task<absl::Status> Fetch(const fetch::v1::FetchRequest &request,
                           absl::Time deadline,
                           fetch::v1::FetchResponse &out) override {
    gate_->OnStart();
    absl::Status s = co_await Answer(request, deadline, out);
    gate_->OnEnd(absl::IsCancelled(s));
    co_return s;
  }

private:
  static Task<absl::Status> WaitOn(std::shared_ptr<Event> e) {
    co_return co_await e->Wait();
  }

  Task<absl::Status> Answer(const fetch::v1::FetchRequest &request,
                            absl::Time deadline,
                            fetch::v1::FetchResponse &out) {
    absl::StatusOr<http::Url> url = http::ParseUrl(request.url());
    if (!url.ok())
      co_return url.status();
    if (url->host == "gate.test") {
      auto event = std::make_shared<Event>(); // shared with the wake-up posted
                                              // to this loop
      auto wake = [event] { event->Set(); };
      if (gate_->Park(EventLoop::Current(), wake)) {
        auto wait = WithDeadline(deadline, WaitOn(event));
        absl::Status waited = co_await std::move(wait);
        gate_->OnUnpark();
        if (!waited.ok())
          co_return waited;
      }
    }
    std::string body = "ok";
    int n = 0;
    if (url->host == "big.test" && absl::SimpleAtoi(url->path.substr(1), &n))
      body.assign(n, 'x');
    out.set_status(200);
    out.set_reason("OK");
    out.set_final_url(request.url());
    out.set_body_size(static_cast<int64_t>(body.size()));
    out.set_body(std::move(body));
    co_return absl::OkStatus();
  }

  std::shared_ptr<Gate> gate_;
};

} // namespace

fetch::BackendFactory GatedBackendFactory(std::shared_ptr<Gate> gate) {
  return
      [gate](
          EventLoop &) -> absl::StatusOr<std::unique_ptr<fetch::FetchBackend>> {
        return std::make_unique<GatedBackend>(gate);
      };
}

RawHttpPeer::RawHttpPeer(std::string response)
    : response_(std::move(response)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listen_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    std::abort(); // a test fixture on loopback: nothing sensible to do without
                  // it
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

RawHttpPeer::~RawHttpPeer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::string RawHttpPeer::url(const std::string &path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

// One connection at a time: read a request head, answer, close.
void RawHttpPeer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0)
      continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    ++connections_;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && !stop_) {
      pollfd c{fd, POLLIN, 0};
      if (poll(&c, 1, 20) <= 0)
        continue;
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0)
        break;
      head.append(buf, static_cast<size_t>(n));
    }
    size_t off = 0;
    while (off < response_.size()) {
      const ssize_t n = send(fd, response_.data() + off, response_.size() - off,
                             MSG_NOSIGNAL);
      if (n <= 0)
        break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  }
}

} // namespace corio::svcaudit
