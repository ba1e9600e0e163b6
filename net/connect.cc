#include "net/connect.h"

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tasks/event.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"

namespace corio {
namespace {

struct RaceState {
  std::function<Task<absl::StatusOr<TcpStream>>(SocketAddress)> dial;
  Event progress;  // set whenever an attempt finishes
  std::optional<TcpStream> winner;
  std::vector<absl::Status> failures;
  int running = 0;
};

Task<void> Attempt(RaceState* race, SocketAddress addr) {
  absl::StatusOr<TcpStream> conn;
  if (race->dial) {
    conn = co_await race->dial(addr);
  } else {
    conn = co_await TcpStream::Connect(addr);
  }
  --race->running;
  if (conn.ok()) {
    if (!race->winner.has_value()) race->winner = *std::move(conn);  // later ones just close
  } else if (!absl::IsCancelled(conn.status())) {
    race->failures.push_back(conn.status());
  }
  race->progress.Set();
}

Task<absl::Status> WaitForProgress(Event* e) { co_return co_await e->Wait(); }

Task<absl::StatusOr<TcpStream>> Race(
    std::vector<SocketAddress> addrs, std::string name, absl::Duration attempt_delay,
    std::function<Task<absl::StatusOr<TcpStream>>(SocketAddress)> dial) {
  RaceState race;
  race.dial = std::move(dial);
  std::vector<JoinHandle<void>> attempts;
  size_t next = 0;
  absl::Status stopped;  // our own cancellation
  while (!race.winner.has_value()) {
    if (next < addrs.size()) {
      ++race.running;
      attempts.push_back(Spawn(Attempt(&race, addrs[next++])));
    } else if (race.running == 0) {
      break;  // every address tried and failed
    }
    // Wait for an attempt to finish, or for the stagger delay to start the next one.
    const int failed_before = static_cast<int>(race.failures.size());
    while (!race.winner.has_value()) {
      race.progress.Clear();
      absl::Status waited;
      if (next < addrs.size()) {
        waited = co_await WithTimeout(attempt_delay, WaitForProgress(&race.progress));
      } else {
        waited = co_await WaitForProgress(&race.progress);
      }
      if (absl::IsCancelled(waited)) {
        stopped = waited;
        break;
      }
      if (absl::IsDeadlineExceeded(waited)) break;                        // stagger: next attempt
      if (static_cast<int>(race.failures.size()) > failed_before) break;  // one failed: next now
      if (race.running == 0 && next == addrs.size()) break;
    }
    if (!stopped.ok()) break;
  }
  // Structured: stop the losers and wait for them (their sockets close as they finish).
  for (JoinHandle<void>& a : attempts) a.Cancel();
  for (JoinHandle<void>& a : attempts) (void)co_await std::move(a);
  if (!stopped.ok()) co_return stopped;
  if (race.winner.has_value()) co_return *std::move(race.winner);
  // One address: its own error, as is ("connect 127.0.0.1:9: Connection refused").
  if (addrs.size() == 1 && race.failures.size() == 1) co_return race.failures[0];
  co_return absl::UnavailableError(absl::StrCat(
      "connect ", name, ": all ", addrs.size(), " addresses failed: ",
      absl::StrJoin(race.failures, "; ", [](std::string* out, const absl::Status& s) {
        absl::StrAppend(out, s.message());
      })));
}

// A refusal whose message does not name the address gets it added (same code).
absl::Status NameTheAddress(absl::Status refusal, const SocketAddress& addr,
                            const std::string& name) {
  if (absl::StrContains(refusal.message(), addr.IpString())) return refusal;
  if (refusal.code() == absl::StatusCode::kOk) return refusal;
  return absl::Status(refusal.code(), absl::StrCat("connect ", name, ": address ", addr.ToString(),
                                                   " refused: ", refusal.message()));
}

}  // namespace

std::vector<SocketAddress> InterleaveFamilies(const std::vector<SocketAddress>& addrs) {
  if (addrs.empty()) return {};
  std::vector<SocketAddress> first, second, out;
  const int family = addrs.front().family();
  for (const SocketAddress& a : addrs) (a.family() == family ? first : second).push_back(a);
  for (size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
    if (i < first.size()) out.push_back(first[i]);
    if (i < second.size()) out.push_back(second[i]);
  }
  return out;
}

Task<absl::StatusOr<TcpStream>> ConnectToAny(std::vector<SocketAddress> addrs,
                                             std::string name_for_errors, ConnectOptions options) {
  if (addrs.empty()) {
    co_return absl::NotFoundError(absl::StrCat("connect ", name_for_errors, ": no addresses"));
  }
  if (options.address_filter) {
    std::vector<SocketAddress> allowed;
    absl::Status first_refusal;
    for (const SocketAddress& a : addrs) {
      absl::Status s = options.address_filter(a);
      if (s.ok()) {
        allowed.push_back(a);
      } else if (first_refusal.ok()) {
        first_refusal = NameTheAddress(std::move(s), a, name_for_errors);
      }
    }
    if (allowed.empty()) co_return first_refusal;
    addrs = std::move(allowed);
  }
  absl::StatusOr<TcpStream> conn =
      co_await WithTimeout(options.timeout, Race(InterleaveFamilies(addrs), name_for_errors,
                                                 options.attempt_delay, std::move(options.dial)));
  if (absl::IsDeadlineExceeded(conn.status())) {
    co_return absl::DeadlineExceededError(absl::StrCat(
        "connect ", name_for_errors, ": timed out after ", absl::FormatDuration(options.timeout)));
  }
  co_return conn;
}

Task<absl::StatusOr<TcpStream>> ConnectToHost(dns::Resolver& resolver, std::string host,
                                              uint16_t port, ConnectOptions options) {
  const absl::Time deadline = EventLoop::Current()->Now() + options.timeout;
  absl::StatusOr<std::vector<SocketAddress>> addrs =
      co_await WithTimeout(options.timeout, resolver.Resolve(host, port));
  if (!addrs.ok()) co_return addrs.status();
  options.timeout = deadline - EventLoop::Current()->Now();
  co_return co_await ConnectToAny(*std::move(addrs), absl::StrCat(host, ":", port), options);
}

}  // namespace corio
