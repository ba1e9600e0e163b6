#include "cmd/fetch_cmd/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cmd/fetch_cmd/body_file.h"
#include "cmd/fetch_cmd/fetcher.h"
#include "cmd/fetch_cmd/format.h"
#include "cmd/fetch_cmd/progress.h"
#include "loop/event_loop.h"
#include "loop/loop_group.h"
#include "tasks/queue.h"
#include "tasks/spawn.h"
#include "tasks/task.h"
#include "tasks/task_group.h"

namespace corio::fetch_cmd {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Permits for URLs in flight (taken by the reader thread, returned when a result has been
// written), and — for --output=body — a window past the first result not yet written, so
// results that finish ahead of a slow one hold a bounded number of bodies.
//
// The reader takes permits in batches: once it waits, it is woken when `wake_at` are free (not
// at every release), and takes up to its batch at once — one thread wake-up per batch of URLs,
// not one per URL. With a window (body mode) every release may move the window: no batching.
class Permits {
 public:
  Permits(int n, uint64_t window, const Output* output)
      : free_(n),
        wake_at_(window != 0 ? 1 : std::clamp(n / 8, 1, 16)),
        window_(window),
        output_(output) {}

  // Blocks until a permit is free (and `index` is inside the window), then takes as many as
  // are free, up to `most` (and within the window from `index` on). Returns how many it took;
  // 0 after Shutdown().
  int AcquireSome(uint64_t index, int most) {
    std::unique_lock<std::mutex> lock(mu_);
    uint64_t room = 0;  // how many indexes from `index` on are inside the window
    auto ready = [&] {
      if (shut_ || free_ <= 0) return shut_;
      if (window_ == 0) return true;
      const uint64_t end = output_->written_upto() + window_;
      room = end > index ? end - index : 0;
      return room > 0;
    };
    if (!ready()) {
      // Woken when `wake_at_` permits are free, or at Shutdown(); then as soon as ready.
      ++waiting_;
      cv_.wait(lock, [&] { return shut_ || (free_ >= wake_at_ && ready()); });
      --waiting_;
    }
    if (shut_) return 0;
    int n = std::min(free_, std::max(most, 1));
    if (window_ != 0) n = static_cast<int>(std::min<uint64_t>(n, room));
    free_ -= n;
    return n;
  }
  void Release(int n = 1) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_ += n;
      wake = waiting_ > 0 && free_ >= wake_at_;
    }
    if (wake) cv_.notify_one();  // one waiter: the reader thread
  }
  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shut_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
  int waiting_ = 0;
  bool shut_ = false;
  const int wake_at_;
  const uint64_t window_;
  const Output* const output_;
};

// Raises the soft limit on open files to the hard limit (as Go programs do): a run with many
// connections should not fail at an arbitrary 1024. Returns the limit now in force.
uint64_t RaiseOpenFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = std::min<rlim_t>(rl.rlim_max, rlim_t{1} << 20);
    if (want.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? uint64_t{1} << 20 : static_cast<uint64_t>(rl.rlim_cur);
}

// Idle connections per loop: up to 4x --concurrency in total, within what the open-file limit
// leaves after the connections in flight and the process's own fds; at least 8 per loop.
int IdleBudgetPerLoop(int concurrency, int threads) {
  const int64_t fd_limit = static_cast<int64_t>(RaiseOpenFileLimit());
  const int64_t reserve = 32 + 8 * static_cast<int64_t>(threads);
  const int64_t room = fd_limit - concurrency - reserve;
  const int64_t total = std::min<int64_t>(4 * static_cast<int64_t>(concurrency), room);
  return static_cast<int>(std::max<int64_t>(8, total / std::max(threads, 1)));
}

int TerminalWidth(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

void WriteAllFd(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

struct LoopCtx;

namespace runner_internal {
struct State {
  State(FetchOptions o, std::unique_ptr<UrlInput> in, Output& out, RunnerEnv e)
      : options(std::move(o)),
        input(std::move(in)),
        output(out),
        env(std::move(e)),
        permits(options.concurrency,
                options.output == OutputMode::kBody
                    ? static_cast<uint64_t>(options.concurrency) * 2 + 16
                    : 0,
                &out) {}

  FetchOptions options;
  std::unique_ptr<UrlInput> input;
  Output& output;
  RunnerEnv env;
  Permits permits;
  std::unique_ptr<LoopGroup> group;
  std::vector<std::unique_ptr<LoopCtx>> loops;
  std::shared_ptr<http::SharedLimits> limits;
  std::unique_ptr<BodyFiles> body_files;  // --output_dir
  int wake_fd = -1;  // eventfd: a loop finished
  std::atomic<int> loops_done{0};
  std::atomic<bool> interrupted{false};
  // The number of URLs once the whole input has been read (-1 before), for the progress bar.
  std::atomic<int64_t> input_total{-1};
  // Idle keep-alive connections each loop's client may keep (see HttpLoopFetcher::Fetch).
  int idle_budget_per_loop = 64;
};
}  // namespace runner_internal

using Shared = runner_internal::State;

struct LoopCtx {
  EventLoop* loop = nullptr;
  Shared* shared = nullptr;
  Queue<InputItem> queue;  // used on `loop` only
  std::optional<JoinHandle<absl::Status>> main;
  std::atomic<int> outstanding{0};
};

namespace {

http::ClientOptions MakeClientOptions(const Shared& s) {
  const FetchOptions& o = s.options;
  http::ClientOptions c;
  c.limit = o.concurrency;
  c.limit_per_host = o.limit_per_host;
  c.shared_limits = s.limits;
  c.max_idle_per_host = std::max(32, std::min(o.concurrency, 1024));
  c.total_timeout = o.timeout;
  c.connect_timeout = std::min(o.connect_timeout, o.timeout);
  c.read_timeout = o.timeout;
  c.follow_redirects = o.max_redirects > 0;
  c.max_redirects = o.max_redirects;
  c.retry.max_retries = o.retries;
  c.tls.ca_file = o.cacert;
  c.tls.insecure = o.insecure;
  c.max_body_bytes = o.max_body_bytes;
  if (s.env.customize_client) s.env.customize_client(c);
  return c;
}

// Streams the body into its own file in --output_dir through BodyFiles (body_file.h): a fresh
// temporary file renamed over the final name when complete, so a symlink or hard link planted
// under that name is replaced, never written through, and a failed body leaves nothing behind.
Task<absl::Status> WriteBodyToFile(const Shared& s, http::Response& resp, FetchResult& r) {
  absl::StatusOr<BodyFile> file = s.body_files->Start(r.index, r.url);
  if (!file.ok()) {
    resp.Close();
    co_return file.status();
  }
  std::vector<char> buf(64 * 1024);
  absl::Status st;
  for (;;) {
    absl::StatusOr<size_t> n = co_await resp.Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      st = n.status();
      break;
    }
    if (*n == 0) break;
    st = file->Write(absl::string_view(buf.data(), *n));
    if (!st.ok()) {
      resp.Close();
      break;
    }
  }
  if (!st.ok()) {
    file->Abort();
    co_return st;
  }
  absl::StatusOr<std::string> name = file->Commit();
  if (!name.ok()) co_return name.status();
  r.file = std::move(*name);
  co_return absl::OkStatus();
}

Task<void> Fetch(const Shared& s, http::Client& client, FetchResult& r) {
  const FetchOptions& o = s.options;
  http::Request req;
  req.method = o.method;
  req.url = r.url;
  req.headers = o.headers;
  if (o.data) req.body = *o.data;
  req.timeout = o.timeout;
  req.max_body_bytes = o.max_body_bytes;
  const bool to_file = s.body_files != nullptr;
  const bool want_body = o.output == OutputMode::kBody;
  // Streamed in every mode (and drained here when nobody wants the bytes), so that a body that
  // fails after the head — cut short, corrupt, too large — still reports the response's status
  // and final URL beside the error, whatever the output mode.
  req.body_mode = http::BodyMode::kStream;
  absl::StatusOr<http::Response> resp = co_await client.Send(std::move(req));
  if (!resp.ok()) {
    r.error = resp.status();
    co_return;
  }
  r.status = resp->status();
  r.final_url = resp->url_string();
  r.redirects = static_cast<int>(resp->history().size());
  r.attempts = 1 + resp->retries();
  if (to_file) {
    r.error = co_await WriteBodyToFile(s, *resp, r);
  } else if (want_body) {
    absl::StatusOr<std::string> text = co_await resp->Text();
    if (text.ok()) {
      r.body = std::move(*text);
    } else {
      r.error = text.status();
    }
  } else {
    r.error = co_await resp->Discard();
  }
  r.bytes = resp->body_bytes();
}

// The local way to fetch: this loop's http::Client.
class HttpLoopFetcher final : public LoopFetcher {
 public:
  explicit HttpLoopFetcher(const Shared& s) : s_(s), client_(MakeClientOptions(s)) {}
  Task<void> Fetch(FetchResult& r) override {
    co_await fetch_cmd::Fetch(s_, client_, r);
    // The pool keeps idle keep-alive connections per host (max_idle_per_host each) with no
    // bound in total: a list of many hosts would keep one open to every host it has seen —
    // "too many open files" after ~1000 hosts at the usual limit. Past this loop's budget
    // the idle ones are closed (they are mostly to hosts the list is done with).
    if (client_.stats().idle_connections > s_.idle_budget_per_loop) {
      client_.CloseIdleConnections();
    }
  }
  Task<void> Finish() override { co_return; }

 private:
  const Shared& s_;
  http::Client client_;
};

// `fetcher` is null when it could not be made: `broken` says why.
Task<void> FetchOne(LoopCtx* ctx, LoopFetcher* fetcher, const absl::Status& broken,
                    InputItem item) {
  Shared& s = *ctx->shared;
  FetchResult r;
  r.index = item.index;
  r.url = std::move(item.text);
  const absl::Time start = absl::Now();
  if (item.too_long) {
    r.error = absl::InvalidArgumentError(
        absl::StrCat("url longer than ", UrlInput::kMaxLineBytes, " bytes (truncated here)"));
  } else if (!broken.ok()) {
    r.error = broken;
  } else {
    co_await fetcher->Fetch(r);
  }
  r.elapsed = absl::Now() - start;
  // Interrupted: what was cancelled is not a result; what finished is written.
  if (!(absl::IsCancelled(r.error) && s.interrupted.load())) s.output.Emit(std::move(r));
  ctx->outstanding.fetch_sub(1, std::memory_order_relaxed);
  s.permits.Release();
}

// One per loop: its fetcher (an http::Client, or a stream to fetch servers), and a fetch per
// URL handed to this loop.
Task<absl::Status> LoopMain(LoopCtx* ctx) {
  Shared& s = *ctx->shared;
  {
    absl::StatusOr<std::unique_ptr<LoopFetcher>> fetcher =
        s.env.fetcher_factory ? s.env.fetcher_factory()
                              : absl::StatusOr<std::unique_ptr<LoopFetcher>>(
                                    std::make_unique<HttpLoopFetcher>(s));
    // A fetcher that cannot be made fails this loop's URLs (each says why), not the run.
    const absl::Status broken = fetcher.status();
    LoopFetcher* f = fetcher.ok() ? fetcher->get() : nullptr;
    TaskGroup group;
    for (;;) {
      absl::StatusOr<InputItem> item = co_await ctx->queue.Get();
      if (!item.ok()) break;  // closed and drained, or cancelled (interrupted)
      group.Spawn(FetchOne(ctx, f, broken, std::move(*item)));
    }
    absl::Status ignored = co_await group.Wait();  // children report through Output
    (void)ignored;
    if (fetcher.ok()) {
      co_await (*fetcher)->Finish();
    }
  }
  s.loops_done.fetch_add(1);
  uint64_t one = 1;
  ssize_t unused = write(s.wake_fd, &one, sizeof(one));
  (void)unused;
  co_return absl::OkStatus();
}

// The reader thread: the input, lazily, to the least busy loop. URLs go out in batches, one
// post per loop per batch: a batch is sent when its permits are used up, or before a read that
// may have to wait for input (so results start while a slow input is still being read).
void ReadInput(Shared* s) {
  constexpr int kMaxBatch = 64;
  const size_t n = s->loops.size();
  std::vector<std::vector<InputItem>> batches(n);
  auto flush = [&] {
    for (size_t i = 0; i < n; ++i) {
      if (batches[i].empty()) continue;
      LoopCtx* ctx = s->loops[i].get();
      std::vector<InputItem> items;
      items.swap(batches[i]);
      ctx->loop->CallSoonThreadSafe([ctx, items = std::move(items)]() mutable {
        for (InputItem& it : items) (void)ctx->queue.TryPut(std::move(it));
      });
    }
  };
  size_t rr = 0;
  int held = 0;  // permits taken and not yet given to a URL
  for (;;) {
    if (held == 0) {
      flush();
      held = s->permits.AcquireSome(s->input->count(), kMaxBatch);
      if (held == 0) break;  // shut down
    }
    if (!s->input->NextIsReady()) flush();
    std::optional<InputItem> item = s->input->Next();
    if (!item) break;
    --held;
    size_t best = rr % n;
    for (size_t k = 1; k < n; ++k) {
      const size_t c = (rr + k) % n;
      if (s->loops[c]->outstanding.load(std::memory_order_relaxed) <
          s->loops[best]->outstanding.load(std::memory_order_relaxed)) {
        best = c;
      }
    }
    ++rr;
    s->loops[best]->outstanding.fetch_add(1, std::memory_order_relaxed);
    batches[best].push_back(std::move(*item));
  }
  flush();
  if (held > 0) s->permits.Release(held);
  if (s->input->status().ok() && !s->interrupted.load()) {
    s->input_total.store(static_cast<int64_t>(s->input->count()));
  }
  for (auto& c : s->loops) {
    LoopCtx* ctx = c.get();
    ctx->loop->CallSoonThreadSafe([ctx] { ctx->queue.Close(); });
  }
}

}  // namespace

Runner::Runner(FetchOptions options, std::unique_ptr<UrlInput> input, Output& output,
               RunnerEnv env)
    : shared_(std::make_unique<runner_internal::State>(std::move(options), std::move(input), output,
                                       std::move(env))) {}

Runner::~Runner() {
  if (shared_->wake_fd >= 0) close(shared_->wake_fd);
}

int Runner::Run() {
  Shared& s = *shared_;
  const FetchOptions& o = s.options;
  const int err_fd = s.env.err_fd;
  auto fail = [&](const absl::Status& st) {
    WriteAllFd(err_fd, absl::StrCat("fetch: ", st.message(), "\n"));
    return 1;
  };

  if (!o.output_dir.empty()) {
    absl::StatusOr<std::unique_ptr<BodyFiles>> dir = BodyFiles::Open(o.output_dir);
    if (!dir.ok()) return fail(dir.status());
    s.body_files = std::move(*dir);
  }
  s.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.wake_fd < 0) return fail(ErrnoError("eventfd"));

  // SIGINT/SIGTERM become readable on a signalfd; the threads started below inherit the mask.
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  const int sig_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  struct RestoreMask {
    sigset_t mask;
    int fd;
    ~RestoreMask() {
      if (fd >= 0) close(fd);
      pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    }
  } restore{old_mask, sig_fd};
  if (sig_fd < 0) return fail(ErrnoError("signalfd"));

  int threads = o.threads > 0 ? o.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (s.env.known_total) {
    threads = static_cast<int>(
        std::clamp<uint64_t>(*s.env.known_total, 1, static_cast<uint64_t>(threads)));
  }
  s.idle_budget_per_loop = IdleBudgetPerLoop(o.concurrency, threads);
  LoopGroup::Options group_options;
  group_options.threads = threads;
  absl::StatusOr<std::unique_ptr<LoopGroup>> group = LoopGroup::Create(group_options);
  if (!group.ok()) return fail(group.status());
  s.group = std::move(*group);
  s.limits = http::SharedLimits::Create(o.concurrency, o.limit_per_host);
  for (size_t i = 0; i < s.group->size(); ++i) {
    auto ctx = std::make_unique<LoopCtx>();
    ctx->loop = &s.group->loop(i);
    ctx->shared = &s;
    s.loops.push_back(std::move(ctx));
  }
  for (auto& c : s.loops) {
    LoopCtx* ctx = c.get();
    ctx->loop->CallSoonThreadSafe([ctx] { ctx->main.emplace(Spawn(LoopMain(ctx))); });
  }

  // The signal watcher: a thread of its own, so that a stop signal is seen even while the
  // controller (or a loop) is blocked writing to a stdout nobody reads; Output::Interrupt()
  // then bounds those writes and the controller stops the run.
  const int watcher_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (watcher_stop_fd < 0) return fail(ErrnoError("eventfd"));
  std::atomic<int> pending_signal{0};
  std::thread watcher([&s, sig_fd, watcher_stop_fd, &pending_signal] {
    for (;;) {
      pollfd fds[2] = {{sig_fd, POLLIN, 0}, {watcher_stop_fd, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      signalfd_siginfo info;
      if ((fds[0].revents & POLLIN) != 0 && read(sig_fd, &info, sizeof(info)) == sizeof(info)) {
        int none = 0;
        pending_signal.compare_exchange_strong(none, static_cast<int>(info.ssi_signo));
        s.output.Interrupt();
        uint64_t one = 1;
        ssize_t unused = write(s.wake_fd, &one, sizeof(one));
        (void)unused;
      }
    }
  });
  struct JoinWatcher {
    std::thread& thread;
    int stop_fd;
    ~JoinWatcher() {
      uint64_t one = 1;
      ssize_t unused = write(stop_fd, &one, sizeof(one));
      (void)unused;
      thread.join();
      close(stop_fd);
    }
  } join_watcher{watcher, watcher_stop_fd};

  const absl::Time start = absl::Now();
  std::thread reader(ReadInput, &s);
  int stop_signal = 0;
  bool stopping = false;
  auto stop = [&] {
    if (stopping) return;
    stopping = true;
    s.interrupted.store(true);
    s.input->Interrupt();
    s.permits.Shutdown();
    for (auto& c : s.loops) {
      LoopCtx* ctx = c.get();
      ctx->loop->CallSoonThreadSafe([ctx] {
        if (ctx->main) ctx->main->Cancel();
      });
    }
  };

  const bool progress = s.env.progress;
  const int width = progress ? TerminalWidth(err_fd) : 80;
  while (s.loops_done.load() < static_cast<int>(s.loops.size())) {
    pollfd fds[1] = {{s.wake_fd, POLLIN, 0}};
    int r = poll(fds, 1, 100);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      uint64_t n;
      ssize_t unused = read(s.wake_fd, &n, sizeof(n));
      (void)unused;
    }
    if (pending_signal.load() != 0 && stop_signal == 0) {
      stop_signal = pending_signal.load();
      stop();
    }
    s.output.Flush();
    if (!s.output.write_error().ok()) stop();
    if (progress) {
      const Totals t = s.output.totals();
      ProgressSnapshot snap;
      snap.done = t.done;
      snap.failed = t.failed;
      snap.bytes = t.bytes;
      snap.total = s.env.known_total;
      const int64_t read_total = s.input_total.load();
      if (!snap.total && read_total >= 0) snap.total = static_cast<uint64_t>(read_total);
      snap.elapsed = absl::Now() - start;
      s.output.DrawProgress(ProgressLine(snap, width - 1));
    }
  }
  const absl::Duration wall = absl::Now() - start;
  reader.join();
  for (auto& c : s.loops) {
    LoopCtx* ctx = c.get();
    ctx->loop->CallSoonThreadSafe([ctx] { ctx->main.reset(); });
  }
  s.group->Shutdown(LoopGroup::kDrain);
  s.group.reset();
  s.loops.clear();

  s.output.ClearProgress();
  if (o.output == OutputMode::kBody) s.output.FlushWaiting();
  s.output.Flush();
  const Totals totals = s.output.totals();
  if (stop_signal == 0) stop_signal = pending_signal.load();  // one that came at the very end
  const bool interrupted = stop_signal != 0;
  const std::string total_line = TotalLine(totals, wall, interrupted);
  s.output.WriteTotal(total_line);
  if (!s.input->status().ok() && !absl::IsCancelled(s.input->status())) {
    WriteAllFd(err_fd, absl::StrCat("fetch: ", s.input->status().message(), "\n"));
    return 1;
  }
  if (stop_signal != 0) return 128 + stop_signal;
  if (!s.output.write_error().ok()) {
    WriteAllFd(err_fd, absl::StrCat("fetch: ", s.output.write_error().message(), "\n"));
    return 1;
  }
  return totals.failed == 0 ? 0 : 1;
}

}  // namespace corio::fetch_cmd
