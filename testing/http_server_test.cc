#include "testing/http_server.h"

#include <zlib.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_stream.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"
#include "testing/fd_leak_check.h"
#include "testing/raw_http_client.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Encoding = HttpResponse::Encoding;
using Fault = HttpResponse::Fault;

// Inflates with zlib: window_bits 31 (gzip), 15 (zlib) or -15 (raw). Counts the output bytes and
// keeps at most `keep` of them.
absl::StatusOr<std::string> Inflate(absl::string_view data, int window_bits,
                                    uint64_t* total = nullptr, size_t keep = SIZE_MAX) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, window_bits) != Z_OK) return absl::InternalError("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  uint64_t count = 0;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t n = sizeof buf - z.avail_out;
    count += n;
    if (out.size() < keep) out.append(buf, std::min(n, keep - out.size()));
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::DataLossError(absl::StrCat("inflate: ", rc));
  if (z.avail_in != 0) return absl::DataLossError("bytes after the stream");
  if (total != nullptr) *total = count;
  return out;
}

class HttpServerTest : public FdLeakCheck {};

TEST_F(HttpServerTest, ServesRoutesWithKeepAliveAndCounts) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/hello", HttpResponse::Text(200, "hello"));
    server->RoutePrefix("/files/", [](const HttpRequest& r) {
      return HttpResponse::Text(200, absl::StrCat("file ", r.path, " q=", r.query));
    });
    server->RoutePrefix("/files/special/", HttpResponse::Text(200, "special"));
    server->Route("/files/exact", HttpResponse::Text(200, "exact"));
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    const std::pair<std::string, std::string> cases[] = {
        {"/hello", "hello"},
        {"/files/a/b?x=1", "file /files/a/b q=x=1"},
        {"/files/special/z", "special"},
        {"/files/exact", "exact"},
        {"http://test.local/files/exact", "exact"},  // absolute-form
        {"/hello", "hello"},
    };
    for (const auto& [path, body] : cases) {
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get(path));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->status, 200) << path;
      EXPECT_EQ(r->body, body) << path;
      EXPECT_EQ(r->Header("Content-Length"), absl::StrCat(body.size()));
      EXPECT_FALSE(r->Has("Connection"));
    }
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/nowhere"));
    absl::StatusOr<RawHttpReply> missing = co_await c.ReadReply();
    if (!missing.ok()) co_return missing.status();
    EXPECT_EQ(missing->status, 404);
    EXPECT_THAT(missing->head, HasSubstr("HTTP/1.1 404 Not Found\r\n"));

    server->SetDefault([](const HttpRequest&) { return HttpResponse::Text(418, "teapot"); });
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/nowhere"));
    absl::StatusOr<RawHttpReply> teapot = co_await c.ReadReply();
    if (!teapot.ok()) co_return teapot.status();
    EXPECT_EQ(teapot->status, 418);

    FakeHttpServer::Stats s = server->stats();
    EXPECT_EQ(s.connections_accepted, 1);
    EXPECT_EQ(s.connections_open, 1);
    EXPECT_EQ(s.requests, 8);
    EXPECT_EQ(server->requests("/hello"), 2);
    EXPECT_EQ(server->requests("/files/a/b"), 1);
    EXPECT_EQ(server->requests("/nowhere"), 2);
    EXPECT_EQ(s.in_flight, 0);
    EXPECT_EQ(s.max_in_flight, 1);
    EXPECT_EQ(server->max_in_flight_for_host("TEST.local"), 1);
    std::vector<HttpRequest> log = server->received_requests();
    EXPECT_EQ(log.size(), 8u);
    EXPECT_EQ(log[1].target, "/files/a/b?x=1");
    EXPECT_EQ(log[1].index_on_connection, 1);
    EXPECT_EQ(log[1].connection_index, 0);
    EXPECT_EQ(log[1].Header("host"), "test.local");
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, UrlAndAddress) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    EXPECT_NE(server->port(), 0);
    EXPECT_EQ(server->url("/a?b"), absl::StrCat("http://127.0.0.1:", server->port(), "/a?b"));
    EXPECT_EQ(server->url("x"), absl::StrCat("http://127.0.0.1:", server->port(), "/x"));
    EXPECT_EQ(server->authority(), absl::StrCat("127.0.0.1:", server->port()));

    FakeHttpServer::Options second;
    second.host = "127.0.0.2";
    CORIO_CO_ASSIGN_OR_RETURN(auto other, FakeHttpServer::Start(second));
    EXPECT_EQ(other->address().IpString(), "127.0.0.2");
    other->Route("/", HttpResponse::Text(200, "two"));
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(other->address()));
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->body == "two");

    FakeHttpServer::Options v6;
    v6.host = "::1";
    absl::StatusOr<std::unique_ptr<FakeHttpServer>> six = FakeHttpServer::Start(v6);
    if (six.ok()) {  // hosts without IPv6 loopback cannot bind it
      EXPECT_EQ((*six)->url("/"), absl::StrCat("http://[::1]:", (*six)->port(), "/"));
    }

    FakeHttpServer::Options outside;
    outside.host = "0.0.0.0";
    EXPECT_THAT(FakeHttpServer::Start(outside),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loopback")));
    outside.host = "not an ip";
    EXPECT_THAT(FakeHttpServer::Start(outside), StatusIs(absl::StatusCode::kInvalidArgument));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, StartNeedsALoop) {
  EXPECT_THAT(FakeHttpServer::Start(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(HttpServerTest, EchoesContentLengthAndChunkedBodies) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/echo", EchoResponse);
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    CORIO_CO_RETURN_IF_ERROR(
        co_await c.Send("POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: "
                        "\"2\"\r\nContent-Length: 5\r\n\r\n"
                        "hi\n\x01\xff"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->Header("Content-Type"), "application/json");
    EXPECT_EQ(r->body,
              "{\"method\":\"POST\",\"target\":\"/echo?x=1\",\"path\":\"/"
              "echo\",\"query\":\"x=1\","
              "\"version\":\"HTTP/"
              "1.1\",\"headers\":[[\"Host\",\"h\"],[\"X-A\",\"1\"],[\"x-a\","
              "\"\\\"2\\\"\"],[\"Content-Length\",\"5\"]],\"body\":"
              "\"hi\\n\\u0001\\u00ff\","
              "\"body_bytes\":5,\"chunked\":false}");
    CORIO_CO_RETURN_IF_ERROR(
        co_await c.Send("PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3;ext=1\r\nabc\r\n1\r\nd\r\n0\r\nTrailer: x\r\n\r\n"));
    r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_THAT(r->body, HasSubstr("\"body\":\"abcd\",\"body_bytes\":4,\"chunked\":true"));
    std::vector<HttpRequest> log = server->received_requests();
    EXPECT_THAT(log[0].Headers("X-A"), ElementsAre("1", "\"2\""));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, ChunkedResponsesUseTheGivenSizes) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    HttpResponse r = HttpResponse::Text(200, "abcdefgh").WithChunks({1, 2, 3});
    r.trailers.emplace_back("X-Sum", "8");
    r.headers.clear();
    server->Route("/c", std::move(r));
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/c", "Connection: close\r\n"));
    absl::StatusOr<std::string> raw = co_await c.ReadToEof();
    EXPECT_THAT(raw, IsOkAndHolds("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\nConnection: close\r\n\r\n"
                                  "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n2\r\ngh\r\n"
                                  "0\r\nX-Sum: 8\r\n\r\n"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, DelaysRunOnTheLoopClock) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/late", HttpResponse::Text(200, "late").WithDelayBeforeHead(absl::Seconds(5)));
    server->Route("/body-late", HttpResponse::Text(200, "x").WithDelayBeforeBody(absl::Seconds(3)));
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    EventLoop* loop = EventLoop::Current();
    absl::Time start = loop->Now();
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/late"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->body == "late");
    EXPECT_GE(loop->Now() - start, absl::Seconds(5));

    start = loop->Now();
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/body-late"));
    absl::StatusOr<std::string> head = co_await c.ReadAtLeast(1);
    EXPECT_LT(loop->Now() - start, absl::Seconds(3));  // the head came first
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->body == "x");
    EXPECT_GE(loop->Now() - start, absl::Seconds(3));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, StallHoldsTheRequestUntilTheClientGivesUp) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/stall", HttpResponse::Stall());
    server->Route(
        "/stall-mid",
        HttpResponse::Text(200, std::string(100, 'x')).WithFault(Fault::kStallAfterBodyBytes, 10));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/stall"));
      absl::StatusOr<RawHttpReply> r = co_await WithTimeout(absl::Hours(1), c.ReadReply());
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
      EXPECT_EQ(server->stats().in_flight, 1);
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/stall-mid"));
      absl::StatusOr<std::string> got = co_await WithTimeout(absl::Hours(1), c.ReadToEof());
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kDeadlineExceeded));
    }
    // Both clients closed: the server sees it and lets go.
    while (server->stats().connections_open > 0) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    EXPECT_EQ(server->stats().in_flight, 0);
    EXPECT_EQ(server->requests(), 2);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, TrickleSendsSomeBytesPerInterval) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    HttpResponse slow = HttpResponse::Text(200, "0123456789").WithTrickle(4, absl::Seconds(1));
    slow.headers.clear();
    server->Route("/slow", std::move(slow));
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    const absl::Time start = EventLoop::Current()->Now();
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/slow"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->body == "0123456789");
    // "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" is 38 bytes, the body 10: 12 pieces.
    EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(11));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, CloseAndResetFaults) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    const std::string body(1000, 'b');
    server->Route("/cut",
                  HttpResponse::Text(200, body).WithFault(Fault::kCloseAfterBodyBytes, 100));
    server->Route("/close", HttpResponse::Close());
    server->Route("/reset", HttpResponse::Reset());
    server->Route("/reset-mid",
                  HttpResponse::Text(200, body).WithFault(Fault::kResetAfterBodyBytes, 10));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/cut"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      if (!got.ok()) co_return got.status();
      EXPECT_THAT(*got, HasSubstr("Content-Length: 1000\r\n"));
      EXPECT_TRUE(absl::EndsWith(*got, "\r\n\r\n" + std::string(100, 'b'))) << *got;
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/close"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      EXPECT_THAT(got, IsOkAndHolds(""));
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/reset"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reset")));
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/reset-mid"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reset")));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, RawRedirectAndStatusFactories) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/raw", HttpResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nzz"));
    server->Route("/moved", HttpResponse::Redirect(302, "/target?x=1"));
    server->Route("/away", HttpResponse::Redirect(301, "http://127.0.0.2:1/abs"));
    server->Route("/busy", HttpResponse::Status(429).WithRetryAfter(absl::Seconds(7)));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/raw"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      EXPECT_THAT(got, IsOkAndHolds("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nzz"));
    }
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/moved"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->status, 302);
    EXPECT_EQ(r->Header("Location"), "/target?x=1");
    EXPECT_EQ(r->Header("Content-Length"), "0");
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/away"));
    r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->status, 301);
    EXPECT_EQ(r->Header("Location"), "http://127.0.0.2:1/abs");
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/busy"));
    r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(r->Header("Retry-After"), "7");
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, CompressesWithZlibAtRuntime) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    std::string text;
    for (int i = 0; i < 1000; ++i) absl::StrAppend(&text, "line ", i, " of the page\n");
    server->Route("/gzip", HttpResponse::Text(200, text).WithEncoding(Encoding::kGzip));
    server->Route("/deflate", HttpResponse::Text(200, text).WithEncoding(Encoding::kDeflate));
    server->Route("/raw-deflate",
                  HttpResponse::Text(200, text).WithEncoding(Encoding::kRawDeflate));
    server->Route("/gzip-chunked", [text](const HttpRequest&) {
      return HttpResponse::Text(200, text).WithEncoding(Encoding::kGzip).WithChunks({7, 100});
    });
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    const std::pair<std::string, int> cases[] = {
        {"/gzip", 31}, {"/deflate", 15}, {"/raw-deflate", -15}, {"/gzip-chunked", 31}};
    for (const auto& [path, window_bits] : cases) {
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get(path));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->Header("Content-Encoding"), window_bits == 31 ? "gzip" : "deflate") << path;
      EXPECT_LT(r->body.size(), text.size() / 4) << path;
      EXPECT_THAT(Inflate(r->body, window_bits), IsOkAndHolds(text)) << path;
      // Only the declared container: a zlib stream is not raw deflate and vice versa.
      EXPECT_FALSE(Inflate(r->body, window_bits == 15 ? -15 : 15).ok()) << path;
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, GzipBombInflatesToZeros) {
  const uint64_t size = 64 * 1024 * 1024 + 12345;
  HttpResponse bomb = HttpResponse::GzipBomb(size);
  EXPECT_LT(bomb.body.size(), size / 500);
  uint64_t total = 0;
  absl::StatusOr<std::string> head = Inflate(bomb.body, 31, &total, 4096);
  ASSERT_THAT(head, IsOk());  // CRC and length in the trailer checked by zlib
  EXPECT_EQ(total, size);
  EXPECT_EQ(*head, std::string(4096, '\0'));
  EXPECT_THAT(bomb.headers, ::testing::Contains(Pair("Content-Encoding", "gzip")));
  // Cached: the same bytes again.
  EXPECT_EQ(HttpResponse::GzipBomb(size).body, bomb.body);
}

TEST_F(HttpServerTest, HugeAndEndlessHeaders) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/huge", HttpResponse::Text(200, "ok").WithHugeHeader(1 << 20));
    server->Route("/endless", HttpResponse::Text(200, "").WithFault(Fault::kEndlessHeaders));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/huge"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->Header("X-Huge").size(), 1u << 20);
      EXPECT_EQ(r->body, "ok");
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/endless"));
      absl::StatusOr<std::string> got = co_await c.ReadAtLeast(4 << 20);
      if (!got.ok()) co_return got.status();
      EXPECT_TRUE(absl::StartsWith(*got, "HTTP/1.1 200 OK\r\nX-Endless-0: eee"));
      EXPECT_EQ(got->find("\r\n\r\n"), std::string::npos);
    }  // the client gives up: the server notices and closes
    while (server->stats().connections_open > 0) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, KeepAliveRules) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/", HttpResponse::Text(200, "x"));
    server->Route("/bye", HttpResponse::Text(200, "bye").WithClose());
    // The client asks to close.
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/", "Connection: close\r\n"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->Header("Connection") == "close");
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    // HTTP/1.0: closes unless asked to keep alive.
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(
          co_await c.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET "
                          "/ HTTP/1.0\r\n\r\n"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->Header("Connection") == "keep-alive");
      r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->Header("Connection") == "close");
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    // The response asks to close.
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/bye"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->Header("Connection") == "close");
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    // Keep-alive off server-wide.
    FakeHttpServer::Options no_keep_alive;
    no_keep_alive.keep_alive = false;
    CORIO_CO_ASSIGN_OR_RETURN(auto closing, FakeHttpServer::Start(no_keep_alive));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(closing->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->status == 404 && r->Header("Connection") == "close");
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, ClosesAfterNResponsesAnnouncedOrSilently) {
  auto main = []() -> Task<absl::Status> {
    for (bool announce : {true, false}) {
      FakeHttpServer::Options options;
      options.max_responses_per_connection = 2;
      options.announce_close = announce;
      CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(options));
      server->Route("/", HttpResponse::Text(200, "x"));
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      // Three pipelined requests: two answers, then the close.
      CORIO_CO_RETURN_IF_ERROR(
          co_await c.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
                          "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      absl::StatusOr<RawHttpReply> first = co_await c.ReadReply();
      absl::StatusOr<RawHttpReply> second = co_await c.ReadReply();
      if (!first.ok()) co_return first.status();
      if (!second.ok()) co_return second.status();
      EXPECT_FALSE(first->Has("Connection"));
      EXPECT_EQ(second->Has("Connection"), announce);
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
      EXPECT_EQ(server->requests(), 2);
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, IdleTimeoutDropsQuietConnections) {
  auto main = []() -> Task<absl::Status> {
    FakeHttpServer::Options options;
    options.idle_timeout = absl::Seconds(5);
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(options));
    server->Route("/", HttpResponse::Text(200, "x"));
    EventLoop* loop = EventLoop::Current();
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    // Requests 4 s apart keep the connection: the clock restarts with each request.
    for (int i = 0; i < 3; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Seconds(4)));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->status == 200 && !r->Has("Connection"));
    }
    // Then silence: closed 5 s after the last request, without a response.
    const absl::Time last = loop->Now();
    absl::StatusOr<std::string> rest = co_await c.ReadToEof();
    EXPECT_THAT(rest, IsOkAndHolds(""));
    EXPECT_GE(loop->Now() - last, absl::Seconds(5));
    EXPECT_LT(loop->Now() - last, absl::Seconds(6));
    // A connection that never sends a byte goes the same way.
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn quiet, co_await RawHttpConn::Open(server->address()));
    rest = co_await quiet.ReadToEof();
    EXPECT_THAT(rest, IsOkAndHolds(""));
    EXPECT_EQ(server->requests(), 3);
    EXPECT_EQ(server->stats().connections_accepted, 2);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, ResponsesCanCloseTheirConnection) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/third", HttpResponse::Text(200, "x").WithCloseAfterResponses(3));
    server->Route("/quiet", HttpResponse::Text(200, "q").WithClose(/*announce=*/false));
    server->Route("/other", HttpResponse::Text(200, "o"));
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      // Other routes do not count against it, but the connection's position does.
      const char* paths[] = {"/third", "/other", "/third"};
      for (int i = 0; i < 3; ++i) {
        CORIO_CO_RETURN_IF_ERROR(co_await c.Get(paths[i]));
        absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
        if (!r.ok()) co_return r.status();
        EXPECT_EQ(r->Header("Connection"), i == 2 ? "close" : "") << i;
      }
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/quiet"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_FALSE(r->Has("Connection"));
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
    }
    EXPECT_EQ(server->stats().connections_accepted, 2);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, HeadInterimAndExpectContinue) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/page", HttpResponse::Text(200, "0123456789"));
    server->Route("/chunky", HttpResponse::Text(200, "abc").WithChunks({1}));
    server->Route("/hints", HttpResponse::Text(200, "final").WithInterim({100, 103}));
    server->Route("/none", HttpResponse::Status(204));
    server->Route("/echo", EchoResponse);
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/page", "", "HEAD"));
    absl::StatusOr<RawHttpReply> r = co_await c.ReadReply(/*head_only=*/true);
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->Header("Content-Length"), "10");
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/chunky", "", "HEAD"));
    r = co_await c.ReadReply(/*head_only=*/true);
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->Header("Transfer-Encoding"), "chunked");
    // The connection is still in step: no body bytes followed the heads.
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/hints"));
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->status == 100);
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->status == 103);
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->status == 200 && r->body == "final");
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/none"));
    r = co_await c.ReadReply();
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->status, 204);
    EXPECT_FALSE(r->Has("Content-Length"));
    // Expect: 100-continue gets a 100 before the client sends the body.
    CORIO_CO_RETURN_IF_ERROR(
        co_await c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: "
                        "100-continue\r\nContent-Length: 3\r\n\r\n"));
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && r->status == 100);
    CORIO_CO_RETURN_IF_ERROR(co_await c.Send("abc"));
    r = co_await c.ReadReply();
    EXPECT_TRUE(r.ok() && absl::StrContains(r->body, "\"body\":\"abc\""));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, SequenceAnswersInOrderThenRepeatsTheLast) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->RouteSequence("/flaky", {HttpResponse::Status(503).WithRetryAfter(absl::Seconds(2)),
                                     HttpResponse::Status(503), HttpResponse::Text(200, "ok")});
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    std::vector<int> statuses;
    for (int i = 0; i < 4; ++i) {
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/flaky"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      statuses.push_back(r->status);
      if (i == 0) {
        EXPECT_EQ(r->Header("Retry-After"), "2");
      }
    }
    EXPECT_THAT(statuses, ElementsAre(503, 503, 200, 200));
    EXPECT_EQ(server->requests("/flaky"), 4);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, RejectsMalformedRequests) {
  auto main = []() -> Task<absl::Status> {
    FakeHttpServer::Options options;
    options.max_request_head_bytes = 1024;
    options.max_request_body_bytes = 100;
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(options));
    const std::pair<std::string, int> cases[] = {
        {"NOT A REQUEST LINE\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: "
         "chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 413},
        {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'x') + "\r\n\r\n", 431},
    };
    for (const auto& [request, status] : cases) {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Send(request));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->status, status) << request;
      EXPECT_EQ(r->Header("Connection"), "close") << request;
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds("")) << request;
    }
    EXPECT_EQ(server->requests(), 0);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Opens a connection, sends one GET and returns the reply.
Task<absl::StatusOr<RawHttpReply>> GetOnce(SocketAddress address, std::string path,
                                           std::string host) {
  CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(address));
  CORIO_CO_RETURN_IF_ERROR(
      co_await c.Send(absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", host, "\r\n\r\n")));
  co_return co_await c.ReadReply();
}

TEST_F(HttpServerTest, CountsRequestsInFlightPerHost) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    std::shared_ptr<HttpGate> gate = HttpGate::Create();
    server->Route("/held", HttpResponse::Text(200, "released").WithGate(gate));
    std::vector<Task<absl::StatusOr<RawHttpReply>>> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(GetOnce(server->address(), "/held", i < 3 ? "a.test" : "B.test"));
    }
    JoinHandle<absl::StatusOr<std::vector<RawHttpReply>>> all = Spawn(Gather(std::move(clients)));
    while (gate->waiting() < 5) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    FakeHttpServer::Stats s = server->stats();
    EXPECT_EQ(s.in_flight, 5);
    EXPECT_EQ(s.in_flight_by_host["a.test"], 3);
    EXPECT_EQ(s.in_flight_by_host["b.test"], 2);
    gate->Open();
    absl::StatusOr<std::vector<RawHttpReply>> replies = co_await std::move(all);
    if (!replies.ok()) co_return replies.status();
    for (const RawHttpReply& r : *replies) EXPECT_EQ(r.body, "released");
    s = server->stats();
    EXPECT_EQ(s.in_flight, 0);
    EXPECT_EQ(s.max_in_flight, 5);
    EXPECT_EQ(server->max_in_flight_for_host("a.test"), 3);
    EXPECT_EQ(server->max_in_flight_for_host("b.test"), 2);
    EXPECT_EQ(s.connections_accepted, 5);
    std::set<int> connection_indexes;
    for (const HttpRequest& r : server->received_requests()) {
      connection_indexes.insert(r.connection_index);
      EXPECT_EQ(r.index_on_connection, 0);
    }
    EXPECT_THAT(connection_indexes, ElementsAre(0, 1, 2, 3, 4));
    server->ResetStats();
    EXPECT_EQ(server->stats().max_in_flight, 0);
    EXPECT_EQ(server->max_in_flight_for_host("a.test"), 0);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, HandlerExceptionsBecome500) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/throw",
                  [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    absl::StatusOr<RawHttpReply> r = co_await GetOnce(server->address(), "/throw", "h");
    if (!r.ok()) co_return r.status();
    EXPECT_EQ(r->status, 500);
    EXPECT_THAT(r->body, HasSubstr("boom"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, BackgroundServerForClientsOnOtherThreads) {
  FakeHttpServer::Options options;
  absl::StatusOr<std::unique_ptr<FakeHttpServer>> server =
      FakeHttpServer::StartInBackground(options);
  ASSERT_THAT(server, IsOk());
  std::shared_ptr<HttpGate> gate = HttpGate::Create();
  (*server)->Route("/held", HttpResponse::Text(200, "late").WithGate(gate));
  (*server)->Route("/now", HttpResponse::Text(200, "now"));
  const SocketAddress address = (*server)->address();
  // Two client threads, each with its own loop.
  std::vector<std::thread> clients;
  std::vector<absl::StatusOr<RawHttpReply>> replies(2, absl::UnknownError("not run"));
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] { replies[i] = RunTaskRealTime(GetOnce(address, "/held", "h")); });
  }
  EXPECT_TRUE(
      (*server)->WaitUntil([](const FakeHttpServer::Stats& s) { return s.in_flight == 2; }));
  absl::StatusOr<RawHttpReply> now = RunTaskRealTime(GetOnce(address, "/now", "h"));
  EXPECT_TRUE(now.ok() && now->body == "now");
  EXPECT_EQ((*server)->stats().max_in_flight, 3);
  gate->Open();
  for (std::thread& t : clients) t.join();
  for (const auto& r : replies) EXPECT_TRUE(r.ok() && r->body == "late");
  EXPECT_TRUE(
      (*server)->WaitUntil([](const FakeHttpServer::Stats& s) { return s.connections_open == 0; }));
  EXPECT_EQ((*server)->requests(), 3);
  server->reset();
}

TEST_F(HttpServerTest, BackgroundStopClosesOpenConnections) {
  absl::StatusOr<std::unique_ptr<FakeHttpServer>> server = FakeHttpServer::StartInBackground();
  ASSERT_THAT(server, IsOk());
  (*server)->Route("/stall", HttpResponse::Stall());
  (*server)->Route("/", HttpResponse::Text(200, "x"));
  const SocketAddress address = (*server)->address();
  auto client = [](SocketAddress address, FakeHttpServer* server) -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn idle, co_await RawHttpConn::Open(address));
    CORIO_CO_RETURN_IF_ERROR(co_await idle.Get("/"));
    absl::StatusOr<RawHttpReply> r = co_await idle.ReadReply();
    if (!r.ok()) co_return r.status();
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn stalled, co_await RawHttpConn::Open(address));
    CORIO_CO_RETURN_IF_ERROR(co_await stalled.Get("/stall"));
    while (server->stats().in_flight < 1)
      CORIO_CO_RETURN_IF_ERROR(co_await Sleep(absl::Milliseconds(1)));
    server->Stop();  // joins the server's thread: every connection is closed now
    EXPECT_EQ(server->stats().connections_open, 0);
    absl::StatusOr<std::string> a = co_await idle.ReadToEof();
    absl::StatusOr<std::string> b = co_await stalled.ReadToEof();
    EXPECT_TRUE(a.ok() || absl::IsUnavailable(a.status())) << a.status();
    EXPECT_TRUE(b.ok() || absl::IsUnavailable(b.status())) << b.status();
    // (Not "a new connect is refused": without a network namespace of its own, another test
    // may bind the freed port at once.)
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTaskRealTime(client(address, server->get())), IsOk());
  server->reset();
}

TEST_F(HttpServerTest, DestroyingALoopServerClosesEverything) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->Route("/stall", HttpResponse::Stall());
    server->Route("/", HttpResponse::Text(200, "x"));
    const SocketAddress address = server->address();
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn idle, co_await RawHttpConn::Open(address));
    CORIO_CO_RETURN_IF_ERROR(co_await idle.Get("/"));
    absl::StatusOr<RawHttpReply> r = co_await idle.ReadReply();
    if (!r.ok()) co_return r.status();
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn stalled, co_await RawHttpConn::Open(address));
    CORIO_CO_RETURN_IF_ERROR(co_await stalled.Get("/stall"));
    while (server->stats().in_flight < 1) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    const int fds = OpenFdCount();
    server.reset();
    EXPECT_EQ(OpenFdCount(), fds - 3);  // the listener and both connections, at once
    absl::StatusOr<std::string> a = co_await idle.ReadToEof();
    absl::StatusOr<std::string> b = co_await stalled.ReadToEof();
    EXPECT_TRUE(a.ok() || absl::IsUnavailable(a.status())) << a.status();
    EXPECT_TRUE(b.ok() || absl::IsUnavailable(b.status())) << b.status();
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    server->RoutePrefix("/", [](const HttpRequest& r) { return HttpResponse::Text(200, r.path); });
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    std::string burst;
    for (int i = 0; i < 50; ++i)
      absl::StrAppend(&burst, "GET /", i, " HTTP/1.1\r\nHost: h\r\n\r\n");
    CORIO_CO_RETURN_IF_ERROR(co_await c.Send(burst));
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->body, absl::StrCat("/", i));
    }
    EXPECT_EQ(server->stats().connections_accepted, 1);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::testing
