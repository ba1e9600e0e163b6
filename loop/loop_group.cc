#include "loop/loop_group.h"

#include <pthread.h>

#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace corio {

absl::StatusOr<std::unique_ptr<LoopGroup>> LoopGroup::Create() { return Create(Options()); }

absl::StatusOr<std::unique_ptr<LoopGroup>> LoopGroup::Create(Options options) {
  int n = options.threads > 0 ? options.threads
                              : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  std::unique_ptr<LoopGroup> group(new LoopGroup());
  for (int i = 0; i < n; ++i) {
    EventLoop::Options loop_options;
    loop_options.backend = options.backend;
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(std::move(loop_options));
    if (!loop.ok()) return loop.status();
    group->loops_.push_back(*std::move(loop));
  }
  for (int i = 0; i < n; ++i) {
    try {
      group->threads_.emplace_back([g = group.get(), loop = group->loops_[i].get(), i] {
        pthread_setname_np(pthread_self(), absl::StrCat("corio-loop-", i).substr(0, 15).c_str());
        g->ThreadMain(loop);
      });
    } catch (const std::system_error& e) {
      group->Shutdown(kCancel);
      return absl::ResourceExhaustedError(absl::StrCat("LoopGroup: cannot start thread: ", e.what()));
    }
  }
  return group;
}

LoopGroup::~LoopGroup() { Shutdown(kCancel); }

void LoopGroup::ThreadMain(EventLoop* loop) {
  absl::Status s = loop->RunUntil([&] {
    const int state = state_.load(std::memory_order_acquire);
    if (state == kRunning) return false;
    if (state == kCancelling) return true;
    return !loop->HasPendingWork();
  });
  if (!s.ok()) loop->ReportError(s);
}

EventLoop& LoopGroup::Next() {
  return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

EventLoop& LoopGroup::LeastLoaded() {
  // Start the scan at a rotating index so ties spread out instead of piling on loop 0.
  const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  size_t best = start % loops_.size();
  uint32_t best_load = loops_[best]->load();
  for (size_t k = 1; k < loops_.size() && best_load > 0; ++k) {
    const size_t i = (start + k) % loops_.size();
    const uint32_t load = loops_[i]->load();
    if (load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return *loops_[best];
}

bool LoopGroup::PostTo(EventLoop& loop, Callback cb) {
  posting_.fetch_add(1, std::memory_order_seq_cst);
  const bool accepted = state_.load(std::memory_order_seq_cst) == kRunning;
  if (accepted) loop.CallSoonThreadSafe(std::move(cb));
  posting_.fetch_sub(1, std::memory_order_release);
  return accepted;
}

bool LoopGroup::Post(Callback cb) { return PostTo(Next(), std::move(cb)); }

bool LoopGroup::PostToLeastLoaded(Callback cb) { return PostTo(LeastLoaded(), std::move(cb)); }

void LoopGroup::Shutdown(ShutdownMode mode) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  for (const auto& loop : loops_) {
    CORIO_CHECK_MSG(!loop->IsInLoopThread(), "LoopGroup::Shutdown called from one of its loops");
  }
  int expected = kRunning;
  state_.compare_exchange_strong(expected, mode == kDrain ? kDraining : kCancelling);
  if (mode == kCancel) state_.store(kCancelling, std::memory_order_release);
  // A Post() that saw kRunning finishes its hand-off before the loops look for leftover work.
  while (posting_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  // Wake every loop so it re-checks its exit condition.
  for (const auto& loop : loops_) loop->CallSoonThreadSafe([] {});
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace corio
