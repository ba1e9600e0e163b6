#include "net/fetch/dispatcher.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "net/fetch/proto_time.h"

namespace corio::fetch {

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Create(LoopGroup& group,
                                                               BackendFactory factory,
                                                               Options options) {
  std::unique_ptr<Dispatcher> d(new Dispatcher(options));
  for (size_t i = 0; i < group.size(); ++i) {
    auto w = std::make_unique<Worker>();
    w->loop = &group.loop(i);
    d->workers_.push_back(std::move(w));
  }
  // Each backend is made on its own loop's thread.
  std::mutex mu;
  std::condition_variable cv;
  size_t made = 0;
  absl::Status first_error;
  for (auto& w : d->workers_) {
    Worker* worker = w.get();
    worker->loop->CallSoonThreadSafe([&, worker] {
      absl::StatusOr<std::unique_ptr<FetchBackend>> b = factory(*worker->loop);
      std::lock_guard<std::mutex> lock(mu);
      if (b.ok()) {
        worker->backend = *std::move(b);
      } else if (first_error.ok()) {
        first_error = b.status();
      }
      ++made;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return made == d->workers_.size(); });
  if (!first_error.ok()) {
    lock.unlock();
    d->Stop();
    return first_error;
  }
  return d;
}

Dispatcher::~Dispatcher() { Stop(); }

int Dispatcher::TryReserve(int want) {
  if (slot_waiters_.load(std::memory_order_seq_cst) > 0) return 0;
  return TryTake(want);
}

int Dispatcher::TryTake(int want) {
  int cur = in_use_.load(std::memory_order_relaxed);
  for (;;) {
    const int got = std::min(want, options_.max_concurrent_fetches - cur);
    if (got <= 0) return 0;
    if (in_use_.compare_exchange_weak(cur, cur + got, std::memory_order_acq_rel)) return got;
  }
}

void Dispatcher::Release(int n) {
  if (n <= 0) return;
  const int before = in_use_.fetch_sub(n, std::memory_order_seq_cst);
  CORIO_CHECK_MSG(before >= n, "Dispatcher::Release of slots never reserved");
  // seq_cst, as in ReserveOrWait: either this sees the waiter, or the waiter sees the slot.
  if (slot_waiters_.load(std::memory_order_seq_cst) > 0) GrantWaiters();
  NotifyIdleWaiters();
}

bool Dispatcher::ReserveOrWait(SlotGranted granted) {
  std::lock_guard<std::mutex> lock(slot_mu_);
  if (slot_waiters_list_.empty()) {
    slot_waiters_.fetch_add(1, std::memory_order_seq_cst);
    if (TryTake(1) == 1) {
      slot_waiters_.fetch_sub(1, std::memory_order_seq_cst);
      return true;
    }
  } else {
    slot_waiters_.fetch_add(1, std::memory_order_seq_cst);
  }
  slot_waiters_list_.push_back(std::move(granted));
  return false;
}

void Dispatcher::GrantWaiters() {
  std::lock_guard<std::mutex> lock(slot_mu_);
  while (!slot_waiters_list_.empty() && TryTake(1) == 1) {
    SlotGranted granted = std::move(slot_waiters_list_.front());
    slot_waiters_list_.pop_front();
    slot_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    // Never inline: the releaser may hold locks the waiter takes.
    const uint32_t index = next_worker_.fetch_add(1, std::memory_order_relaxed) %
                           static_cast<uint32_t>(workers_.size());
    workers_[index]->loop->CallSoonThreadSafe(
        [granted = std::move(granted)]() mutable { std::move(granted)(); });
  }
}

void Dispatcher::NotifyIdleWaiters() {
  if (idle_waiters_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

bool Dispatcher::WaitForIdle(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  idle_waiters_.fetch_add(1, std::memory_order_seq_cst);
  const bool idle = cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
    return in_use_.load(std::memory_order_seq_cst) == 0 &&
           running_.load(std::memory_order_seq_cst) == 0;
  });
  idle_waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return idle;
}

uint32_t Dispatcher::PickWorker() {
  return next_worker_.fetch_add(1, std::memory_order_relaxed) %
         static_cast<uint32_t>(workers_.size());
}

Dispatcher::Ticket Dispatcher::Start(Job job, Done done) {
  return Start(std::move(job), std::move(done), PickWorker());
}

Dispatcher::Ticket Dispatcher::Start(Job job, Done done, uint32_t index) {
  CORIO_CHECK_MSG(index < workers_.size(), "Dispatcher::Start: no such worker");
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  Worker* w = workers_[index].get();
  running_.fetch_add(1, std::memory_order_relaxed);
  auto begin = [this, w, id, job = std::move(job), done = std::move(done)]() mutable {
    if (w->stopping) {
      running_.fetch_sub(1, std::memory_order_seq_cst);
      NotifyIdleWaiters();
      std::move(done)(absl::CancelledError("fetch service shutting down"), v1::FetchResponse());
      return;
    }
    // Spawn never runs the task inline, so the handle is in the map before the task starts.
    w->tasks[id].handle = Spawn(*w->loop, Run(w, id, std::move(job), std::move(done)));
  };
  // From the worker's own loop (a fetch's completion starting the next one of its call): no
  // cross-thread hand-off. Either way, later, never inline.
  if (w->loop->IsInLoopThread()) {
    w->loop->CallSoon(std::move(begin));
  } else {
    w->loop->CallSoonThreadSafe(std::move(begin));
  }
  return Ticket{index, id};
}

void Dispatcher::Cancel(Ticket ticket) {
  Worker* w = workers_[ticket.worker].get();
  w->loop->CallSoonThreadSafe([w, id = ticket.id] {
    auto it = w->tasks.find(id);
    if (it == w->tasks.end()) return;  // already over
    // A task cancelled before its first step would never run (and never call `done`), so
    // one that has not started yet is flagged instead and ends as soon as it starts.
    if (it->second.started) {
      it->second.handle.Cancel();
    } else {
      it->second.cancelled = true;
    }
  });
}

Task<void> Dispatcher::Run(Worker* w, uint64_t id, Job job, Done done) {
  v1::FetchResponse response;
  const absl::Time start = absl::Now();
  absl::Status status;
  Entry& entry = w->tasks[id];
  entry.started = true;
  if (w->stopping) {
    status = absl::CancelledError("fetch service shutting down");
  } else if (entry.cancelled) {
    status = absl::CancelledError("fetch cancelled");
  } else {
    // The job's deadline is wall-clock time (gRPC's); the backend's is on the loop's clock.
    const absl::Time deadline = job.deadline == absl::InfiniteFuture()
                                    ? absl::InfiniteFuture()
                                    : w->loop->Now() + (job.deadline - start);
    status = co_await w->backend->Fetch(job.request, deadline, response);
  }
  *response.mutable_timing()->mutable_queued() = ToProtoDuration(start - job.queued_since);
  running_.fetch_sub(1, std::memory_order_seq_cst);
  NotifyIdleWaiters();
  std::move(done)(std::move(status), std::move(response));
  Forget(w, id);
}

void Dispatcher::Forget(Worker* w, uint64_t id) {
  // Called from the task itself: erase its handle (and so free its frame) once it has ended.
  w->loop->CallSoon([this, w, id] {
    w->tasks.erase(id);
    MaybeRetire(w);
  });
}

void Dispatcher::MaybeRetire(Worker* w) {
  if (!w->stopping || !w->tasks.empty() || w->retired) return;
  w->backend.reset();
  w->retired = true;
  std::lock_guard<std::mutex> lock(mu_);
  ++retired_;
  cv_.notify_all();
}

void Dispatcher::Stop() {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  lock.unlock();
  std::deque<SlotGranted> waiters;  // destroyed unrun, outside the lock
  {
    std::lock_guard<std::mutex> slot_lock(slot_mu_);
    waiters.swap(slot_waiters_list_);
    slot_waiters_.store(0, std::memory_order_seq_cst);
  }
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop->CallSoonThreadSafe([this, worker] {
      worker->stopping = true;
      for (auto& [id, entry] : worker->tasks) {
        if (entry.started) entry.handle.Cancel();
      }
      MaybeRetire(worker);
    });
  }
  lock.lock();
  cv_.wait(lock, [&] { return retired_ == static_cast<int>(workers_.size()); });
}

}  // namespace corio::fetch
