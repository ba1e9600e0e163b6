// TCP over loopback, corio side of bench/run_tcp_echo.sh (Asio side: asio_tcp_echo.cpp). One
// process, one loop: a server task and a client task.
//   tcp_echo pingpong N     -> N round trips of a 64-byte message: ns per round trip
//   tcp_echo bulk MIB       -> MIB MiB sent in 64 KiB writes, read and discarded: MB/s
// Prints one line: impl=corio test=... value=... unit=...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "tasks/run.h"
#include "tasks/spawn.h"

namespace {

using corio::Task;
using corio::TcpListener;
using corio::TcpStream;

Task<absl::Status> EchoServer(TcpListener* listener) {
  absl::StatusOr<TcpStream> conn = co_await listener->Accept();
  if (!conn.ok()) co_return conn.status();
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    absl::Status w = co_await conn->WriteAll(absl::string_view(buf.data(), *n));
    if (!w.ok()) co_return w;
  }
}

Task<absl::Status> SinkServer(TcpListener* listener) {
  absl::StatusOr<TcpStream> conn = co_await listener->Accept();
  if (!conn.ok()) co_return conn.status();
  std::vector<char> buf(256 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await conn->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
  }
}

Task<absl::Status> Main(std::string test, long n) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(corio::SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  const bool pingpong = test == "pingpong";
  corio::JoinHandle<absl::Status> server =
      corio::Spawn(pingpong ? EchoServer(&*listener) : SinkServer(&*listener));
  absl::StatusOr<TcpStream> conn = co_await TcpStream::Connect(listener->local_address());
  if (!conn.ok()) co_return conn.status();
  const absl::Time t0 = absl::Now();
  if (pingpong) {
    const std::string msg(64, 'p');
    char buf[64];
    for (long i = 0; i < n; ++i) {
      absl::Status w = co_await conn->WriteAll(msg);
      if (!w.ok()) co_return w;
      absl::Status r = co_await conn->ReadExactly(absl::MakeSpan(buf, 64));
      if (!r.ok()) co_return r;
    }
  } else {
    const std::string chunk(64 * 1024, 'b');
    for (long i = 0; i < n * 16; ++i) {
      absl::Status w = co_await conn->WriteAll(chunk);
      if (!w.ok()) co_return w;
    }
  }
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  conn->Close();
  absl::Status s = co_await std::move(server);
  if (pingpong) {
    std::printf("impl=corio test=pingpong value=%.0f unit=ns_per_round_trip\n", secs * 1e9 / n);
  } else {
    std::printf("impl=corio test=bulk value=%.0f unit=MB_per_s\n", n * 1048576.0 / secs / 1e6);
  }
  co_return s;
}

}  // namespace

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 3 || !absl::SimpleAtoi(argv[2], &n) || n <= 0) {
    std::fprintf(stderr, "usage: tcp_echo pingpong|bulk N\n");
    return 2;
  }
  absl::Status s = corio::Run(Main(argv[1], n));
  if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return s.ok() ? 0 : 1;
}
