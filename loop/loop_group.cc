#include "loop/loop_group.h"

#include <pthread.h>

#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace corio {

absl::StatusOr<std::unique_ptr<LoopGroup>> LoopGroup::Create() { return Create(Options()); }

absl::StatusOr<std::unique_ptr<LoopGroup>> LoopGroup::Create(Options options) {
  int n =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  std::unique_ptr<LoopGroup> group(new LoopGroup());
  for (int i = 0; i < n; ++i) {
    EventLoop::Options loop_options;
    loop_options.backend = options.backend;
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(std::move(loop_options));
    if (!loop.ok()) return loop.status();
    (*loop)->JoinQuietGroup(&group->quiet_epoch_);
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
      return absl::ResourceExhaustedError(
          absl::StrCat("LoopGroup: cannot start thread: ", e.what()));
    }
  }
  return group;
}

LoopGroup::~LoopGroup() { Shutdown(kCancel); }

// Shutdown, as each loop sees it after every turn:
//  1. kDraining: a loop with nothing pending marks itself quiet (phase 1) and looks at the
//     group; when every loop is quiet, nothing can make more work, and it moves the group on.
//  2. kDrainCancelling / kCancelling: each loop cancels its tasks (and any started later);
//     once it has none left (and, when draining, nothing pending) it marks itself quiet in
//     that phase; when every loop is, the group is done.
// "Every loop quiet" is read without stopping anyone: a loop is quiet in a phase if its flag
// says so and nothing was posted to it since (a posted callback is visible as remote work
// from the moment it is queued, and the loop drops its flag before it drains the queue). The
// group's epoch moves on every flag change, so a scan during which any loop changed state is
// not trusted. A loop posts to another only while busy (not quiet), so the last loop to go
// quiet sees every callback the others sent.
void LoopGroup::ThreadMain(EventLoop* loop) {
  bool tasks_cancelled = false;
  absl::Status s = loop->RunUntil([&] {
    const int state = state_.load(std::memory_order_acquire);
    if (state == kRunning) return false;
    if (state == kDone) return true;
    EventLoop::TaskHost* tasks = loop->task_host();
    bool quiet;
    if (state == kDraining) {
      quiet = !loop->HasPendingWork();
    } else {
      if (tasks != nullptr && !tasks_cancelled) {
        tasks->CancelAllTasks();
        tasks_cancelled = true;
      }
      const bool no_tasks = tasks == nullptr || tasks->live_tasks() == 0;
      quiet = no_tasks && (state == kCancelling || !loop->HasPendingWork());
    }
    if (!quiet) return false;
    // Cancelling and no task left here: what is queued is not a task's (callbacks, timers,
    // cross-thread callbacks, tasks posted to start here): not run while this loop waits for
    // the others.
    if (state == kCancelling) loop->DiscardPending(/*remote=*/true);
    if (loop->quiet_phase() != state) loop->MarkQuiet(state);
    if (GroupQuiet(state)) Advance(state, state == kDraining ? kDrainCancelling : kDone);
    return state_.load(std::memory_order_acquire) == kDone;
  });
  if (!s.ok()) loop->ReportError(s);
  loop->Close();
}

bool LoopGroup::GroupQuiet(int phase) const {
  const uint64_t before = quiet_epoch_.load(std::memory_order_seq_cst);
  for (const auto& loop : loops_) {
    if (loop->quiet_phase() != phase) return false;
    // Cancelling ignores what is queued: it is destroyed unrun when the loops close.
    if (phase != kCancelling && loop->has_remote_work()) return false;
  }
  return quiet_epoch_.load(std::memory_order_seq_cst) == before;
}

void LoopGroup::Advance(int from, int to) {
  int expected = from;
  if (!state_.compare_exchange_strong(expected, to)) return;
  // Wake every loop to look at the new phase (a closed loop refuses: it has ended).
  for (const auto& loop : loops_) (void)loop->CallSoonThreadSafe([] {});
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
  for (const auto& loop : loops_) {
    CORIO_CHECK_MSG(!loop->IsInLoopThread(), "LoopGroup::Shutdown called from one of its loops");
  }
  // The state only moves forward; kCancel overtakes a drain in progress.
  const int target = mode == kDrain ? kDraining : kCancelling;
  int state = state_.load(std::memory_order_acquire);
  while (state < target && !state_.compare_exchange_weak(state, target)) {
  }
  // A Post() that saw kRunning finishes its hand-off before the loops look for leftover work.
  while (posting_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  // Wake every loop so it re-checks its exit condition (a closed loop refuses: it has ended).
  for (const auto& loop : loops_) (void)loop->CallSoonThreadSafe([] {});
  std::lock_guard<std::mutex> lock(join_mu_);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace corio
