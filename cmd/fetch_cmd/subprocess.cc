#include "cmd/fetch_cmd/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace corio::fetch_cmd::testing {

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv) {
  return Start(argv, Options());
}

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             const Options& options) {
  const std::vector<std::string>& extra_env = options.extra_env;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  if (options.stderr_is_terminal) {
    winsize ws{};
    ws.ws_row = 24;
    ws.ws_col = static_cast<unsigned short>(options.terminal_columns);
    // err[0]: the master (ours), err[1]: the terminal the child writes to.
    if (openpty(&err[0], &err[1], nullptr, nullptr, &ws) != 0) {
      return absl::InternalError(absl::StrCat("openpty: ", std::strerror(errno)));
    }
    fcntl(err[0], F_SETFD, FD_CLOEXEC);
    fcntl(err[1], F_SETFD, FD_CLOEXEC);
  } else if (pipe2(err, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const std::string& e : extra_env) env_strings.push_back(e);
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : env_strings) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    // A clean signal state: the test runner may have blocked or ignored some.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  Subprocess p;
  p.pid_ = pid;
  p.in_ = in[1];
  p.out_ = out[0];
  p.err_ = err[0];
  fcntl(p.out_, F_SETFL, O_NONBLOCK);
  fcntl(p.err_, F_SETFL, O_NONBLOCK);
  return p;
}

Subprocess::Subprocess(Subprocess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      in_(std::exchange(o.in_, -1)),
      out_(std::exchange(o.out_, -1)),
      err_(std::exchange(o.err_, -1)),
      out_buf_(std::move(o.out_buf_)),
      err_buf_(std::move(o.err_buf_)),
      feeder_(std::move(o.feeder_)) {}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (feeder_.joinable()) feeder_.join();
  for (int fd : {in_, out_, err_}) {
    if (fd >= 0) close(fd);
  }
}

bool Subprocess::WriteStdin(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(in_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

void Subprocess::FeedStdinAndClose(std::string data) {
  const int fd = std::exchange(in_, -1);
  feeder_ = std::thread([fd, data = std::move(data)] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  });
}

void Subprocess::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

bool Subprocess::Pump(absl::Duration timeout) {
  pollfd fds[2];
  int n = 0;
  if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
  if (err_ >= 0) fds[n++] = {err_, POLLIN, 0};
  if (n == 0) return false;
  int ms = timeout == absl::InfiniteDuration() ? -1 : static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (poll(fds, n, ms) <= 0) return true;
  char buf[65536];
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    int& fd = fds[i].fd == out_ ? out_ : err_;
    std::string& sink = fds[i].fd == out_ ? out_buf_ : err_buf_;
    for (;;) {
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
        continue;
      }
      // (A terminal's master reads EIO once the child side is closed: the end, too.)
      if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(fd);
        fd = -1;
      }
      break;
    }
  }
  return true;
}

bool Subprocess::ReadStdoutUntil(bool (*pred)(const std::string&, const void*), const void* arg,
                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred(out_buf_, arg)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || out_ < 0) return pred(out_buf_, arg);
    Pump(std::min(left, absl::Milliseconds(100)));
  }
  return true;
}

bool Subprocess::WaitForLines(int n, absl::Duration timeout) {
  return ReadStdoutUntil(
      [](const std::string& s, const void* arg) {
        return std::count(s.begin(), s.end(), '\n') >= *static_cast<const int*>(arg);
      },
      &n, timeout);
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

Subprocess::Result Subprocess::Wait() {
  CloseStdin();
  while (out_ >= 0 || err_ >= 0) Pump(absl::Seconds(1));
  if (feeder_.joinable()) feeder_.join();
  Result r;
  int status = 0;
  rusage usage{};
  if (wait4(pid_, &status, 0, &usage) == pid_) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
    r.max_rss_kib = usage.ru_maxrss;
  }
  pid_ = -1;
  r.out = std::move(out_buf_);
  r.err = std::move(err_buf_);
  return r;
}

namespace {

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  std::optional<JsonObject> Object() {
    JsonObject obj;
    Ws();
    if (!Eat('{')) return std::nullopt;
    Ws();
    if (Eat('}')) return End(obj);
    for (;;) {
      Ws();
      std::optional<std::string> key = String();
      if (!key) return std::nullopt;
      Ws();
      if (!Eat(':')) return std::nullopt;
      Ws();
      std::optional<JsonValue> v = Value();
      if (!v) return std::nullopt;
      if (!obj.emplace(*key, *v).second) return std::nullopt;  // duplicate key
      Ws();
      if (Eat('}')) return End(obj);
      if (!Eat(',')) return std::nullopt;
    }
  }

 private:
  std::optional<JsonObject> End(JsonObject& obj) {
    Ws();
    if (i_ != s_.size()) return std::nullopt;
    return obj;
  }
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Word(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(i_, n, w) == 0) {
      i_ += n;
      return true;
    }
    return false;
  }
  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  std::optional<std::string> String() {
    if (!Eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          uint32_t cp = static_cast<uint32_t>(std::strtoul(s_.substr(i_, 4).c_str(), nullptr, 16));
          i_ += 4;
          AppendUtf8(cp, out);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<JsonValue> Value() {
    JsonValue v;
    if (Word("null")) return v;
    if (Word("true")) {
      v.kind = JsonValue::kBool;
      v.boolean = true;
      return v;
    }
    if (Word("false")) {
      v.kind = JsonValue::kBool;
      return v;
    }
    if (i_ < s_.size() && s_[i_] == '"') {
      std::optional<std::string> str = String();
      if (!str) return std::nullopt;
      v.kind = JsonValue::kString;
      v.str = std::move(*str);
      return v;
    }
    const char* begin = s_.c_str() + i_;
    char* end = nullptr;
    v.number = std::strtod(begin, &end);
    if (end == begin) return std::nullopt;
    i_ += static_cast<size_t>(end - begin);
    v.kind = JsonValue::kNumber;
    return v;
  }

  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<JsonObject> ParseJsonObject(const std::string& line) {
  return JsonReader(line).Object();
}

std::vector<JsonObject> ParseJsonLines(const std::string& text) {
  std::vector<JsonObject> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    std::optional<JsonObject> obj = ParseJsonObject(line);
    out.push_back(obj ? std::move(*obj) : JsonObject{{"!", JsonValue{}}});
  }
  return out;
}

}  // namespace corio::fetch_cmd::testing
