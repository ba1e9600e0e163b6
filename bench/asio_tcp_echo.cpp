// TCP over loopback, Boost.Asio side of bench/run_tcp_echo.sh: the same jobs as tcp_echo.cc,
// with Asio C++20 coroutines on one single-threaded io_context. Bench-only: built by the script
// with the system's Boost headers, never part of corio's build.
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

static asio::awaitable<void> echo_server(tcp::acceptor& acc, bool echo) {
  tcp::socket s = co_await acc.async_accept(asio::use_awaitable);
  s.set_option(tcp::no_delay(true));
  std::vector<char> buf(echo ? 64 * 1024 : 256 * 1024);
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (echo) co_await asio::async_write(s, asio::buffer(buf.data(), n), asio::use_awaitable);
  }
}

static asio::awaitable<void> client(tcp::endpoint ep, bool pingpong, long n) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  co_await s.async_connect(ep, asio::use_awaitable);
  s.set_option(tcp::no_delay(true));
  auto t0 = std::chrono::steady_clock::now();
  if (pingpong) {
    std::string msg(64, 'p');
    char buf[64];
    for (long i = 0; i < n; ++i) {
      co_await asio::async_write(s, asio::buffer(msg), asio::use_awaitable);
      co_await asio::async_read(s, asio::buffer(buf, 64), asio::use_awaitable);
    }
  } else {
    std::string chunk(64 * 1024, 'b');
    for (long i = 0; i < n * 16; ++i) co_await asio::async_write(s, asio::buffer(chunk), asio::use_awaitable);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.close();
  if (pingpong) std::printf("impl=asio test=pingpong value=%.0f unit=ns_per_round_trip\n", secs * 1e9 / n);
  else std::printf("impl=asio test=bulk value=%.0f unit=MB_per_s\n", n * 1048576.0 / secs / 1e6);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  bool pingpong = std::string(argv[1]) == "pingpong";
  long n = std::atol(argv[2]);
  asio::io_context ioc{1};
  tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::co_spawn(ioc, echo_server(acc, pingpong), asio::detached);
  asio::co_spawn(ioc, client(acc.local_endpoint(), pingpong, n), asio::detached);
  ioc.run();
}
