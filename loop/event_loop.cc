#include "loop/event_loop.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/demangle.h"
#include "loop/signal_set.h"

namespace corio {
namespace {

using loop_internal::PollEvent;

thread_local EventLoop* tls_current = nullptr;

// Tokens with gen 0xFFFF'FFFE and 0xFFFF'FFFF are the loop's own fds; user slots use
// (gen << 32 | index) with gen < 0xFFFF'FFFE.
constexpr uint64_t kWakeToken = ~0ull;
constexpr uint64_t kSignalTokenBase = 0xFFFF'FFFEull << 32;  // | signo

enum Mode { kForever = 0, kUntil = 1, kIdle = 2 };

EventLoop::Backend DefaultBackend() {
  const char* env = std::getenv("CORIO_LOOP_BACKEND");
  if (env != nullptr && std::string(env) == "io_uring") return EventLoop::Backend::kIoUring;
  return EventLoop::Backend::kEpoll;
}

}  // namespace

namespace loop_internal {

// The part of a loop other threads touch. Shared by the loop, its LoopHandles and WorkGuards, so
// a post or a guard release after the loop is gone finds a closed queue, not freed memory.
struct RemoteState {
  explicit RemoteState(int fd) : wake_fd(fd) {}
  ~RemoteState() { close(wake_fd); }

  // Returns false (and destroys `cb` outside the lock) once closed.
  bool Post(Callback cb) {
    bool accepted = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!closed) {
        queue.push_back(std::move(cb));
        pending.store(true, std::memory_order_seq_cst);
        accepted = true;
      }
    }
    if (!accepted) return false;  // `cb` is destroyed on return, outside the lock
    WakeIfParked();
    return true;
  }
  // Makes the loop look at its cross-thread queue (and so re-check what it waits for) soon.
  void Poke() {
    pending.store(true, std::memory_order_seq_cst);
    WakeIfParked();
  }
  // Writes the eventfd if the loop is parked in the poller and no wake-up is on its way.
  void WakeIfParked() {
    // Pairs with EventLoop::Poll(): the loop sets `parked` then reads `pending` and its stop
    // flag; callers set one of those then read `parked`. One side sees the other's store, so a
    // parked loop is always woken.
    if (parked.load(std::memory_order_seq_cst) && !wake_pending.exchange(true)) {
      uint64_t one = 1;
      ssize_t n = write(wake_fd, &one, sizeof one);
      (void)n;  // EAGAIN: the counter is saturated, the loop is being woken anyway
    }
  }

  const int wake_fd;
  EventLoop* loop = nullptr;  // the owner; written before any handle exists, never changed
  std::mutex mu;
  std::vector<Callback> queue;           // guarded by mu
  bool closed = false;                   // guarded by mu
  std::atomic<bool> closed_flag{false};  // mirrors `closed` for lock-free readers
  std::atomic<bool> pending{false};
  std::atomic<bool> parked{false};
  std::atomic<bool> wake_pending{false};
  std::atomic<int64_t> outstanding{0};
};

}  // namespace loop_internal

// --- LoopHandle / WorkGuard -----------------------------------------------------------------

bool LoopHandle::Post(Callback cb) const {
  if (remote_ == nullptr) return false;
  EventLoop* current = EventLoop::Current();
  if (current != nullptr && current->remote_ == remote_ &&
      !remote_->closed_flag.load(std::memory_order_relaxed)) {
    current->CallSoon(std::move(cb));
    return true;
  }
  return remote_->Post(std::move(cb));
}

WorkGuard LoopHandle::HoldWork() const {
  if (remote_ == nullptr) return WorkGuard();
  return WorkGuard(remote_);
}

bool LoopHandle::IsCurrent() const {
  EventLoop* current = EventLoop::Current();
  return current != nullptr && remote_ != nullptr && current->remote_ == remote_;
}

WorkGuard::WorkGuard(std::shared_ptr<loop_internal::RemoteState> remote)
    : remote_(std::move(remote)) {
  remote_->outstanding.fetch_add(1, std::memory_order_relaxed);
}

void WorkGuard::Release() {
  if (remote_ == nullptr) return;
  // The last release wakes the loop so a drain waiting on it re-checks. Whatever the holder
  // posted before releasing is already queued (the decrement orders after it).
  if (remote_->outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) remote_->Poke();
  remote_.reset();
}

// --- TimerHandle ----------------------------------------------------------------------------

bool TimerHandle::Cancel() { return loop_ != nullptr && loop_->timers_.Cancel(id_); }

bool TimerHandle::pending() const { return loop_ != nullptr && loop_->timers_.IsPending(id_); }

// --- construction ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() { return Create(Options()); }

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Options options) {
  const Backend backend = options.backend.value_or(DefaultBackend());
  absl::Status error;
  std::unique_ptr<loop_internal::Poller> poller = backend == Backend::kIoUring
                                                      ? loop_internal::NewUringPoller(&error)
                                                      : loop_internal::NewEpollPoller(&error);
  if (poller == nullptr) return error;
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return absl::ErrnoToStatus(errno, "eventfd");
  auto remote = std::make_shared<loop_internal::RemoteState>(wake_fd);  // owns wake_fd now
  if (absl::Status s = poller->Add(wake_fd, kWakeToken, io::kReadable); !s.ok()) return s;
  return std::unique_ptr<EventLoop>(
      new EventLoop(std::move(options), std::move(poller), std::move(remote)));
}

EventLoop::EventLoop(Options options, std::unique_ptr<loop_internal::Poller> poller,
                     std::shared_ptr<loop_internal::RemoteState> remote)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock()),
      system_clock_(clock_ == &SystemClock()),
      slack_ns_(std::max<int64_t>(0, absl::ToInt64Nanoseconds(options_.timer_slack))),
      slow_ns_(absl::ToInt64Nanoseconds(options_.slow_callback_threshold)),
      budget_(std::max(1, options_.callbacks_per_tick)),
      poller_(std::move(poller)),
      timers_(std::max<int64_t>(1, slack_ns_), NowNanos()),
      remote_(std::move(remote)) {
  remote_->loop = this;
}

EventLoop::~EventLoop() {
  CORIO_CHECK_MSG(!running_, "EventLoop destroyed while running");
  // Refuse cross-thread work first: nothing posted from now on can reach what is torn down.
  std::vector<Callback> leftovers;
  {
    std::lock_guard<std::mutex> lock(remote_->mu);
    remote_->closed = true;
    remote_->closed_flag.store(true, std::memory_order_relaxed);
    leftovers.swap(remote_->queue);
  }
  // Loop-local state next (newest first): it may cancel work that refers to the loop.
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
  (void)poller_->Remove(remote_->wake_fd, kWakeToken);
  // leftovers, ready_ and timers_ are destroyed with their callbacks, unrun; the eventfd is
  // closed with the last handle.
}

EventLoop* EventLoop::Current() { return tls_current; }

// --- scheduling -----------------------------------------------------------------------------

bool EventLoop::CallSoonThreadSafe(Callback cb) {
  // The posted callback may stop the loop and let its thread destroy it before Post() returns
  // (`CallSoonThreadSafe(stop); thread.join()`): the local reference keeps the shared part alive
  // while Post() still touches it, and `this` is not touched after.
  std::shared_ptr<loop_internal::RemoteState> remote = remote_;
  return remote->Post(std::move(cb));
}

void EventLoop::Stop() {
  if (IsInLoopThread()) {
    stop_requested_.store(true, std::memory_order_seq_cst);
    return;
  }
  // From another thread the loop may see the flag, return from Run() and be destroyed before
  // the wake-up below: it goes through a reference that outlives the loop.
  std::shared_ptr<loop_internal::RemoteState> remote = remote_;
  stop_requested_.store(true, std::memory_order_seq_cst);
  remote->WakeIfParked();
}

void EventLoop::Close() {
  CORIO_CHECK_MSG(!running_, "EventLoop::Close while the loop is running");
  std::vector<Callback> leftovers;
  {
    std::lock_guard<std::mutex> lock(remote_->mu);
    remote_->closed = true;
    remote_->closed_flag.store(true, std::memory_order_relaxed);
    leftovers.swap(remote_->queue);
    remote_->pending.store(false, std::memory_order_relaxed);
  }
  leftovers.clear();
  DiscardPending();
}

bool EventLoop::closed() const { return remote_->closed_flag.load(std::memory_order_relaxed); }

void EventLoop::DiscardPending(bool remote) {
  if (remote) {
    std::vector<Callback> batch;
    {
      std::lock_guard<std::mutex> lock(remote_->mu);
      batch.swap(remote_->queue);
      remote_->pending.store(false, std::memory_order_relaxed);
    }
  }
  // Destroying a callback may queue another (a destructor that posts): repeat until quiet.
  while (!ready_.empty() || !timers_.empty()) {
    while (!ready_.empty()) ready_.Pop();
    timers_.CancelAll();
  }
}

bool EventLoop::HasPendingWork() const {
  // Guards first: a holder posts its result before releasing, so once the count reads zero
  // the result is visible as `pending` (or already drained into ready_).
  if (remote_->outstanding.load(std::memory_order_acquire) > 0) return true;
  return !ready_.empty() || !timers_.empty() || active_fds_ > 0 ||
         remote_->pending.load(std::memory_order_acquire);
}

size_t EventLoop::outstanding_work() const {
  return static_cast<size_t>(
      std::max<int64_t>(0, remote_->outstanding.load(std::memory_order_relaxed)));
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
      if (*n == 0 && ready_.empty() && !remote_->pending.load(std::memory_order_acquire)) {
        if (timers_.empty() ||
            !clock_->AdvanceWhenIdle(loop_internal::NanosToTime(timers_.NextDeadline()))) {
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
  if (remote_->pending.load(std::memory_order_acquire)) DrainRemote();

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

  load_.store(
      static_cast<uint32_t>(ready_.size() + timers_.size() + active_fds_ + outstanding_work()),
      std::memory_order_relaxed);
  return worked;
}

absl::StatusOr<int> EventLoop::Poll(int64_t timeout_ns) {
  if (timeout_ns != 0) {
    remote_->parked.store(true, std::memory_order_seq_cst);
    if (remote_->pending.load(std::memory_order_seq_cst) ||
        stop_requested_.load(std::memory_order_seq_cst)) {
      timeout_ns = 0;
    }
  }
  absl::StatusOr<int> n = poller_->Wait(timeout_ns, absl::MakeSpan(events_));
  if (timeout_ns != 0) remote_->parked.store(false, std::memory_order_relaxed);
  since_poll_ = 0;
  poll_requested_ = false;
  if (!n.ok()) return n.status();
  int user_events = 0;
  for (int i = 0; i < *n; ++i) {
    const PollEvent& ev = events_[i];
    if (ev.token == kWakeToken) {
      uint64_t value;
      ssize_t r = read(remote_->wake_fd, &value, sizeof value);
      (void)r;
      remote_->wake_pending.store(false, std::memory_order_seq_cst);
      continue;
    }
    ++user_events;
    if ((ev.token >> 32) == (kSignalTokenBase >> 32)) {
      if (signals_ != nullptr) signals_->Dispatch(static_cast<int>(ev.token & 0xFFFF'FFFFu));
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

bool EventLoop::has_remote_work() const {
  return remote_->pending.load(std::memory_order_seq_cst) ||
         remote_->outstanding.load(std::memory_order_seq_cst) > 0;
}

void EventLoop::DrainRemote() {
  ClearQuiet();  // first: from here on the loop is busy again
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(remote_->mu);
    batch.swap(remote_->queue);
    remote_->pending.store(false, std::memory_order_relaxed);
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
    signals_ = std::make_unique<loop_internal::SignalSet>(*poller_, kSignalTokenBase);
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
  // The poller knows whether the fd is still the open file an earlier watcher registered
  // (EEXIST) or a new file behind a reused number.
  absl::Status st = poller_->Add(fd, SlotToken(index), interest);
  const uint32_t prev = fd_owner_[fd];
  if (!st.ok()) {
    free_slots_.push_back(index);
    if (prev != 0 && absl::IsAlreadyExists(st)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "FdWatcher: fd ", fd, " is already watched on this loop; stop that watcher first"));
    }
    return st;
  }
  if (prev != 0) {
    // The earlier watcher's fd was closed and its number reused: that watcher goes quiet. Its
    // registration is already gone (the poller replaced it), so only the slot is retired.
    DeactivateSlot(prev - 1, /*unregister=*/false);
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

void EventLoop::DeactivateSlot(uint32_t index, bool unregister) {
  FdSlot& s = fd_slots_[index];
  // An error here means the fd was already closed (epoll dropped it): nothing to undo.
  if (unregister) (void)poller_->Remove(s.fd, SlotToken(index));
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
