#include "loop/event_loop.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/demangle.h"
#include "base/check.h"
#include "loop/signal_set.h"

namespace corio {
namespace {

using loop_internal::PollEvent;

thread_local EventLoop* tls_current = nullptr;

// Tokens 0xFFFF'FFFF'xxxx'xxxx are the loop's own fds; user slots use (gen << 32 | index) with
// gen < 0xFFFF'FFFF.
constexpr uint64_t kWakeToken = ~0ull;
constexpr uint64_t kSignalToken = ~0ull - 1;

enum Mode { kForever = 0, kUntil = 1, kIdle = 2 };

EventLoop::Backend DefaultBackend() {
  const char* env = std::getenv("CORIO_LOOP_BACKEND");
  if (env != nullptr && std::string(env) == "io_uring") return EventLoop::Backend::kIoUring;
  return EventLoop::Backend::kEpoll;
}


}  // namespace

// --- TimerHandle ----------------------------------------------------------------------------

bool TimerHandle::Cancel() { return loop_ != nullptr && loop_->timers_.Cancel(id_); }

bool TimerHandle::pending() const { return loop_ != nullptr && loop_->timers_.IsPending(id_); }

// --- construction ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() { return Create(Options()); }

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Options options) {
  const Backend backend = options.backend.value_or(DefaultBackend());
  absl::Status error;
  std::unique_ptr<loop_internal::Poller> poller =
      backend == Backend::kIoUring ? loop_internal::NewUringPoller(&error)
                                   : loop_internal::NewEpollPoller(&error);
  if (poller == nullptr) return error;
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return absl::ErrnoToStatus(errno, "eventfd");
  if (absl::Status s = poller->Add(wake_fd, kWakeToken, io::kReadable); !s.ok()) {
    close(wake_fd);
    return s;
  }
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(options), std::move(poller), wake_fd));
}

EventLoop::EventLoop(Options options, std::unique_ptr<loop_internal::Poller> poller, int wake_fd)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock()),
      system_clock_(clock_ == &SystemClock()),
      slack_ns_(std::max<int64_t>(0, absl::ToInt64Nanoseconds(options_.timer_slack))),
      slow_ns_(absl::ToInt64Nanoseconds(options_.slow_callback_threshold)),
      budget_(std::max(1, options_.callbacks_per_tick)),
      poller_(std::move(poller)),
      timers_(std::max<int64_t>(1, slack_ns_), NowNanos()),
      wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  CORIO_CHECK_MSG(!running_, "EventLoop destroyed while running");
  // Loop-local state first (newest first): it may cancel work that refers to the loop.
  while (!locals_.empty()) {
    LocalEntry e = locals_.back();
    locals_.pop_back();
    e.destroy(e.obj);
  }
  signals_.reset();
  for (uint32_t i = 0; i < fd_slots_.size(); ++i) {
    FdSlot& s = fd_slots_[i];
    if (s.watcher != nullptr) s.watcher->loop_ = nullptr;  // detach: goes quiet
    if (s.active) (void)poller_->Remove(s.fd, SlotToken(i));
  }
  (void)poller_->Remove(wake_fd_, kWakeToken);
  close(wake_fd_);
  // ready_, timers_ and remote_ are destroyed with their callbacks, unrun.
}

EventLoop* EventLoop::Current() { return tls_current; }

// --- scheduling -----------------------------------------------------------------------------

void EventLoop::CallSoonThreadSafe(Callback cb) {
  {
    std::lock_guard<std::mutex> lock(remote_mu_);
    remote_.push_back(std::move(cb));
    remote_pending_.store(true, std::memory_order_seq_cst);
  }
  WakeIfParked();
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_seq_cst);
  if (!IsInLoopThread()) WakeIfParked();
}

void EventLoop::WakeIfParked() {
  // Pairs with Poll(): the loop sets parked_ then reads remote_pending_ and stop_requested_;
  // callers set one of those then read parked_. One side sees the other's store, so a parked
  // loop is always woken.
  if (parked_.load(std::memory_order_seq_cst) && !wake_pending_.exchange(true)) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof one);
    (void)n;  // EAGAIN means the counter is saturated: the loop is being woken anyway
  }
}

int64_t EventLoop::DelayToDeadline(absl::Duration delay) const {
  const int64_t now = NowNanos();
  if (delay <= absl::ZeroDuration()) return now;
  const int64_t d = absl::ToInt64Nanoseconds(delay);  // saturates for huge durations
  return d > INT64_MAX - now ? INT64_MAX : now + d;
}

int64_t EventLoop::TimeToDeadline(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return INT64_MAX;
  if (deadline == absl::InfinitePast()) return INT64_MIN;
  return loop_internal::TimeToNanos(deadline);
}

// --- running --------------------------------------------------------------------------------

absl::Status EventLoop::Run() {
  return RunLoop(kForever, [] { return false; });
}

absl::Status EventLoop::RunUntil(absl::FunctionRef<bool()> done) { return RunLoop(kUntil, done); }

absl::Status EventLoop::RunUntilIdle() {
  return RunLoop(kIdle, [] { return false; });
}

absl::Status EventLoop::RunLoop(int mode, absl::FunctionRef<bool()> done) {
  if (running_) return absl::FailedPreconditionError("EventLoop: this loop is already running");
  if (tls_current != nullptr) {
    return absl::FailedPreconditionError("EventLoop: another loop is running on this thread");
  }
  running_ = true;
  tls_current = this;
  absl::Status status;
  while (!(mode == kUntil && done())) {
    absl::StatusOr<bool> worked = Tick(/*never_block=*/mode == kIdle);
    if (!worked.ok()) {
      status = worked.status();
      break;
    }
    if (stop_requested_.exchange(false, std::memory_order_relaxed)) break;
    if (mode == kIdle && !*worked) break;
  }
  tls_current = nullptr;
  running_ = false;
  return status;
}

absl::StatusOr<bool> EventLoop::Tick(bool never_block) {
  bool worked = false;

  // 1. I/O. Skipped while work is ready (callbacks, or timers already due) and the fairness
  // budget is not used up.
  bool have_work = !ready_.empty();
  int64_t now = 0;
  if (!have_work && !timers_.empty()) {
    now = NowNanos();
    have_work = timers_.NextDeadline() <= now;
  }
  if (!have_work || since_poll_ >= budget_ || poll_requested_) {
    int64_t timeout = -1;
    if (have_work || never_block || stop_requested_.load(std::memory_order_relaxed)) {
      timeout = 0;
    } else if (!timers_.empty()) {
      // The wheel's deadlines are already multiples of the slack. > 0: nothing is due.
      timeout = timers_.NextDeadline() - now;
    }
    if (timeout != 0 && clock_->is_virtual()) {
      // Virtual time: look at I/O without sleeping; if nothing is ready, let the clock jump to
      // the next timer. A clock that will not jump leaves only real events to wait for.
      absl::StatusOr<int> n = Poll(0);
      if (!n.ok()) return n.status();
      if (*n == 0 && ready_.empty() && !remote_pending_.load(std::memory_order_acquire)) {
        if (timers_.empty() || !clock_->AdvanceWhenIdle(loop_internal::NanosToTime(
                                   timers_.NextDeadline()))) {
          n = Poll(-1);
          if (!n.ok()) return n.status();
        }
      }
      worked |= *n > 0;
    } else {
      absl::StatusOr<int> n = Poll(timeout);
      if (!n.ok()) return n.status();
      worked |= *n > 0;
    }
  }
  if (remote_pending_.load(std::memory_order_acquire)) DrainRemote();

  // 2. Due timers, in deadline order. Bounded by the count at entry, so a timer callback that
  // schedules a zero-delay timer cannot keep this phase going forever under a frozen clock.
  if (!timers_.empty()) {
    const int64_t now = NowNanos();
    TimerCallback cb;
    for (size_t n = timers_.size(); n > 0 && timers_.PopExpired(now, &cb); --n) {
      RunCallback(cb);
      cb.Reset();
      worked = true;
      ++since_poll_;
    }
  }

  // 3. Ready callbacks, FIFO, up to the budget (callbacks queued meanwhile included).
  int ran = 0;
  while (ran < budget_ && !ready_.empty() && !poll_requested_) {
    Callback cb = ready_.Pop();
    RunCallback(cb);
    ++ran;
  }
  since_poll_ += ran;
  worked |= ran > 0;

  load_.store(static_cast<uint32_t>(ready_.size() + timers_.size() + active_fds_),
              std::memory_order_relaxed);
  return worked;
}

absl::StatusOr<int> EventLoop::Poll(int64_t timeout_ns) {
  if (timeout_ns != 0) {
    parked_.store(true, std::memory_order_seq_cst);
    if (remote_pending_.load(std::memory_order_seq_cst) ||
        stop_requested_.load(std::memory_order_seq_cst)) {
      timeout_ns = 0;
    }
  }
  absl::StatusOr<int> n = poller_->Wait(timeout_ns, absl::MakeSpan(events_));
  if (timeout_ns != 0) parked_.store(false, std::memory_order_relaxed);
  since_poll_ = 0;
  poll_requested_ = false;
  if (!n.ok()) return n.status();
  int user_events = 0;
  for (int i = 0; i < *n; ++i) {
    const PollEvent& ev = events_[i];
    if (ev.token == kWakeToken) {
      uint64_t value;
      ssize_t r = read(wake_fd_, &value, sizeof value);
      (void)r;
      wake_pending_.store(false, std::memory_order_seq_cst);
      continue;
    }
    ++user_events;
    if (ev.token == kSignalToken) {
      if (signals_ != nullptr) signals_->Dispatch();
      continue;
    }
    Dispatch(ev);
  }
  return user_events;
}

void EventLoop::Dispatch(const PollEvent& ev) {
  const uint32_t index = static_cast<uint32_t>(ev.token);
  const uint32_t gen = static_cast<uint32_t>(ev.token >> 32);
  if (index >= fd_slots_.size()) return;
  FdSlot& slot = fd_slots_[index];
  if (!slot.active || slot.gen != gen) return;  // stopped earlier in this batch
  dispatching_ = index;
  try {
    slot.handler(ev.events);
  } catch (...) {
    ReportException();
  }
  dispatching_ = ~0u;
  if (slot.release) FreeSlot(index);
}

void EventLoop::DrainRemote() {
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(remote_mu_);
    batch.swap(remote_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (Callback& cb : batch) ready_.Push(std::move(cb));
}

template <typename CallbackType>
void EventLoop::RunCallback(CallbackType& cb) {
  try {
    if (slow_ns_ <= 0) {
      cb();
      return;
    }
    const int64_t start = loop_internal::MonotonicNanos();
    cb();
    const int64_t took = loop_internal::MonotonicNanos() - start;
    if (took >= slow_ns_) {
      const std::string type = Demangle(cb.TypeName());
      if (options_.on_slow_callback) {
        options_.on_slow_callback(absl::Nanoseconds(took), type.c_str());
      } else {
        std::fprintf(stderr, "corio: slow callback: %s took %s\n", type.c_str(),
                     absl::FormatDuration(absl::Nanoseconds(took)).c_str());
      }
    }
  } catch (...) {
    ReportException();
  }
}

void EventLoop::ReportException() {
  std::string what = "unknown exception";
  try {
    throw;
  } catch (const std::exception& e) {
    what = absl::StrCat(Demangle(typeid(e).name()), ": ", e.what());
  } catch (...) {
  }
  ReportError(absl::InternalError(absl::StrCat("callback threw ", what)));
}

void EventLoop::SetErrorHandler(absl::AnyInvocable<void(const absl::Status&)> handler) {
  error_handler_ = std::move(handler);
}

void EventLoop::ReportError(const absl::Status& error) {
  if (error_handler_) {
    error_handler_(error);
  } else {
    std::fprintf(stderr, "corio: error nobody awaited: %s\n", error.ToString().c_str());
  }
}

// --- signals --------------------------------------------------------------------------------

absl::Status EventLoop::AddSignalHandler(int signo, absl::AnyInvocable<void()> handler) {
  if (signals_ == nullptr) {
    absl::StatusOr<std::unique_ptr<loop_internal::SignalSet>> set =
        loop_internal::SignalSet::Create(*poller_, kSignalToken);
    if (!set.ok()) return set.status();
    signals_ = *std::move(set);
  }
  return signals_->Add(signo, std::move(handler));
}

absl::Status EventLoop::RemoveSignalHandler(int signo) {
  if (signals_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("no handler for signal ", signo, " on this loop"));
  }
  return signals_->Remove(signo);
}

// --- fd watchers ----------------------------------------------------------------------------

absl::StatusOr<uint32_t> EventLoop::AddFd(int fd, uint32_t interest,
                                          absl::AnyInvocable<void(uint32_t)> handler,
                                          FdWatcher* watcher) {
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat("FdWatcher: bad fd ", fd));
  if (static_cast<size_t>(fd) >= fd_owner_.size()) fd_owner_.resize(fd + 1, 0);
  if (uint32_t prev = fd_owner_[fd]; prev != 0) {
    // The fd was closed while watched and its number reused: the old watcher goes quiet.
    DeactivateSlot(prev - 1);
  }
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(fd_slots_.size());
    fd_slots_.emplace_back();
  }
  FdSlot& s = fd_slots_[index];
  if (s.gen >= 0xFFFF'FFFEu) s.gen = 0;
  absl::Status st = poller_->Add(fd, SlotToken(index), interest);
  if (!st.ok()) {
    free_slots_.push_back(index);
    return st;
  }
  s.fd = fd;
  s.interest = interest;
  s.active = true;
  s.release = false;
  s.watcher = watcher;
  s.handler = std::move(handler);
  fd_owner_[fd] = index + 1;
  ++active_fds_;
  return index;
}

absl::Status EventLoop::SetFdInterest(uint32_t index, uint32_t interest) {
  FdSlot& s = fd_slots_[index];
  if (!s.active) {
    return absl::FailedPreconditionError(
        absl::StrCat("FdWatcher: fd ", s.fd, " is no longer watched (closed and reused?)"));
  }
  if (s.interest == interest) return absl::OkStatus();
  absl::Status st = poller_->Modify(s.fd, SlotToken(index), interest);
  if (st.ok()) s.interest = interest;
  return st;
}

void EventLoop::RemoveFd(uint32_t index) {
  FdSlot& s = fd_slots_[index];
  if (s.active) {
    DeactivateSlot(index);
  } else {
    ++s.gen;  // events already fetched for this slot are now stale
  }
  s.watcher = nullptr;
  if (dispatching_ == index) {
    s.release = true;  // the handler is running: free it when it returns
  } else {
    FreeSlot(index);
  }
}

void EventLoop::DeactivateSlot(uint32_t index) {
  FdSlot& s = fd_slots_[index];
  // An error here means the fd was already closed (epoll dropped it): nothing to undo.
  (void)poller_->Remove(s.fd, SlotToken(index));
  s.active = false;
  ++s.gen;  // events already fetched for this slot are now stale
  --active_fds_;
  if (fd_owner_[s.fd] == index + 1) fd_owner_[s.fd] = 0;
}

void EventLoop::FreeSlot(uint32_t index) {
  FdSlot& s = fd_slots_[index];
  s.handler = nullptr;
  s.release = false;
  s.fd = -1;
  free_slots_.push_back(index);
}

FdWatcher::FdWatcher(FdWatcher&& other) noexcept : loop_(other.loop_), slot_(other.slot_) {
  other.loop_ = nullptr;
  if (loop_ != nullptr) loop_->fd_slots_[slot_].watcher = this;
}

FdWatcher& FdWatcher::operator=(FdWatcher&& other) noexcept {
  if (this != &other) {
    Stop();
    loop_ = other.loop_;
    slot_ = other.slot_;
    other.loop_ = nullptr;
    if (loop_ != nullptr) loop_->fd_slots_[slot_].watcher = this;
  }
  return *this;
}

absl::StatusOr<FdWatcher> FdWatcher::Start(EventLoop& loop, int fd, uint32_t interest,
                                           Handler handler) {
  FdWatcher w;
  absl::StatusOr<uint32_t> slot = loop.AddFd(fd, interest, std::move(handler), &w);
  if (!slot.ok()) return slot.status();
  w.loop_ = &loop;
  w.slot_ = *slot;
  return w;  // the move constructor re-points the slot at the returned object
}

absl::Status FdWatcher::SetInterest(uint32_t interest) {
  if (loop_ == nullptr) return absl::FailedPreconditionError("FdWatcher: not watching");
  return loop_->SetFdInterest(slot_, interest);
}

void FdWatcher::Stop() {
  if (loop_ == nullptr) return;
  loop_->RemoveFd(slot_);
  loop_ = nullptr;
}

}  // namespace corio
