// Response parsing cost on the messages and feeds of ../shared/bench/parser (http_parser 2.9.4
// and Boost.Beast anchors): `small` (status line + 12 headers + 300 B JSON, Content-Length),
// `chunked` (64 KiB as 16 x 4 KiB chunks), `1m` (1 MiB, Content-Length); each fed whole or in
// 4 KiB slices (a growing window; unconsumed bytes are offered again with the next slice, as a
// read loop would). Body bytes are only counted, like the anchors' callbacks.
//   bazel run -c opt //net/http:parser_benchmark
#include <string>

#include "benchmark/benchmark.h"
#include "net/http/parser.h"

namespace corio::http {
namespace {

struct Msg {
  std::string buf;
  size_t body_len = 0;
  size_t headers = 0;
};

std::string Letters(size_t n, char base) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>(base + i % 26);
  return s;
}

Msg Small() {
  std::string body =
      "{\"id\":12345,\"name\":\"example "
      "item\",\"tags\":[\"a\",\"b\",\"c\"],\"ok\":true,\"data\":\"";
  body.append(298 - body.size(), 'x');
  body += "\"}";
  Msg m;
  m.buf =
      "HTTP/1.1 200 OK\r\n"
      "Server: nginx/1.22.1\r\n"
      "Date: Mon, 23 Nov 2026 01:00:00 GMT\r\n"
      "Content-Type: application/json; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(body.size()) +
      "\r\n"
      "Connection: keep-alive\r\n"
      "Cache-Control: no-cache, no-store, must-revalidate\r\n"
      "Vary: Accept-Encoding\r\n"
      "X-Request-Id: 7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c3f\r\n"
      "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Access-Control-Allow-Origin: *\r\n"
      "ETag: \"5f3c-2a1b9e7d\"\r\n"
      "\r\n";
  m.headers = 12;
  m.buf += body;
  m.body_len = body.size();
  return m;
}

Msg Chunked() {
  Msg m;
  m.buf =
      "HTTP/1.1 200 OK\r\n"
      "Server: nginx/1.22.1\r\n"
      "Date: Mon, 23 Nov 2026 01:00:00 GMT\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Connection: keep-alive\r\n"
      "Cache-Control: no-cache\r\n"
      "X-Request-Id: 7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c3f\r\n"
      "Vary: Accept-Encoding\r\n"
      "\r\n";
  m.headers = 8;
  for (int i = 0; i < 16; i++) m.buf += "1000\r\n" + Letters(4096, 'a') + "\r\n";
  m.buf += "0\r\n\r\n";
  m.body_len = 16 * 4096;
  return m;
}

Msg OneMiB() {
  Msg m;
  m.buf =
      "HTTP/1.1 200 OK\r\n"
      "Server: nginx/1.22.1\r\n"
      "Date: Mon, 23 Nov 2026 01:00:00 GMT\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Length: 1048576\r\n"
      "Connection: keep-alive\r\n"
      "ETag: \"5f3c-100000\"\r\n"
      "\r\n";
  m.headers = 6;
  m.buf += Letters(1 << 20, 'A');
  m.body_len = 1 << 20;
  return m;
}

void ParseOnce(ResponseParser& p, const Msg& m, size_t feed, benchmark::State& state) {
  p.Reset();
  size_t body = 0;
  const size_t len = m.buf.size();
  size_t used = 0, have = feed ? std::min(feed, len) : len;
  while (!p.done()) {
    absl::StatusOr<size_t> n = p.Parse(absl::string_view(m.buf.data() + used, have - used),
                                       [&](absl::string_view b) { body += b.size(); });
    if (!n.ok()) {
      state.SkipWithError(std::string(n.status().message()).c_str());
      return;
    }
    used += *n;
    if (!p.done() && (*n == 0 || used == have)) {
      if (have == len) {
        state.SkipWithError("truncated");
        return;
      }
      have = feed ? std::min(len, have + feed) : len;
    }
  }
  if (used != len || body != m.body_len || p.head().headers.size() != m.headers ||
      p.head().status != 200) {
    state.SkipWithError("bad parse");
  }
}

void BM_Parse(benchmark::State& state, Msg (*make)(), size_t feed) {
  const Msg m = make();
  ResponseParser p;
  for (auto _ : state) ParseOnce(p, m, feed, state);
  state.SetBytesProcessed(state.iterations() * m.buf.size());
}

BENCHMARK_CAPTURE(BM_Parse, small_whole, &Small, 0);
BENCHMARK_CAPTURE(BM_Parse, small_sliced, &Small, 4096);
BENCHMARK_CAPTURE(BM_Parse, chunked_whole, &Chunked, 0);
BENCHMARK_CAPTURE(BM_Parse, chunked_sliced, &Chunked, 4096);
BENCHMARK_CAPTURE(BM_Parse, 1m_whole, &OneMiB, 0);
BENCHMARK_CAPTURE(BM_Parse, 1m_sliced, &OneMiB, 4096);

}  // namespace
}  // namespace corio::http
