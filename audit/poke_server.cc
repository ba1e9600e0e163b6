// poke_server: a FakeHttpServer with a fixed set of routes, for poking the fetch command by hand.
//   poke_server [--tls] [--max_responses=N] [--no_announce]
// Prints "URL <base>" (and "CA <file>" with --tls) on stdout, then serves until stdin closes.
// GET /stats returns the server's counters as JSON; /reset_stats zeroes them.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "net/tls/tls_context.h"
#include "testing/http_server.h"
#include "testing/tls_certs.h"

using corio::testing::FakeHttpServer;
using corio::testing::HttpRequest;
using corio::testing::HttpResponse;
using F = HttpResponse::Fault;
using E = HttpResponse::Encoding;

int main(int argc, char** argv) {
  bool tls = false;
  FakeHttpServer::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tls") tls = true;
    if (a.rfind("--max_responses=", 0) == 0)
      options.max_responses_per_connection = std::stoi(a.substr(16));
    if (a == "--no_announce") options.announce_close = false;
    if (a == "--ipv6") options.host = "::1";
    if (a.rfind("--host=", 0) == 0) options.host = a.substr(7);
  }
  std::unique_ptr<corio::testing::TlsCerts> certs;
  if (tls) {
    auto c = corio::testing::TlsCerts::Create();
    if (!c.ok()) return 1;
    certs = std::make_unique<corio::testing::TlsCerts>(std::move(*c));
    options.tls = corio::tls::TlsContext::CreateServer(
                      {.cert_pem = certs->server().cert_pem, .key_pem = certs->server().key_pem})
                      .value();
  }
  auto s = FakeHttpServer::StartInBackground(options);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    return 1;
  }
  FakeHttpServer& server = **s;
  FakeHttpServer* sp = s->get();
  const std::string base = server.url("");
  server.Route("/ok", HttpResponse::Text(200, "hello"));
  server.Route("/empty", HttpResponse::Status(204));
  server.Route("/404", HttpResponse::Text(404, "nope"));
  server.Route("/500", HttpResponse::Text(500, "boom"));
  server.Route("/503", HttpResponse::Status(503));
  server.RouteSequence("/seq503", {HttpResponse::Status(503).WithRetryAfter(absl::Seconds(1)),
                                   HttpResponse::Status(503), HttpResponse::Text(200, "ok")});
  server.RouteSequence("/seq429", {HttpResponse::Status(429).WithRetryAfter(absl::Seconds(2)),
                                   HttpResponse::Text(200, "ok")});
  server.Route("/echo", corio::testing::EchoResponse);
  server.RoutePrefix("/e/", corio::testing::EchoResponse);
  for (int code : {301, 302, 303, 307, 308}) {
    server.Route(absl::StrCat("/r", code), HttpResponse::Redirect(code, "/echo"));
  }
  server.Route("/loop", HttpResponse::Redirect(302, "/loop"));
  server.Route("/loopa", HttpResponse::Redirect(302, "/loopb"));
  server.Route("/loopb", HttpResponse::Redirect(302, "/loopa"));
  server.RoutePrefix("/chain/", [](const HttpRequest& r) {
    int n = std::stoi(r.path.substr(7));
    if (n <= 0) return HttpResponse::Text(200, "end");
    return HttpResponse::Redirect(302, absl::StrCat("/chain/", n - 1));
  });
  // Cross-origin: same server under the name "localhost".
  server.Route("/xorigin",
               HttpResponse::Redirect(302, absl::StrCat(tls ? "https" : "http",
                                                        "://localhost:", server.port(), "/echo")));
  server.Route("/badloc", HttpResponse::Redirect(302, "http://[::1"));
  server.Route("/badloc2", HttpResponse::Redirect(302, "ftp://x/"));
  server.Route("/badloc3", HttpResponse::Status(302));  // no Location
  server.Route("/badloc4", HttpResponse::Redirect(302, "http://"));
  server.Route("/badloc5", HttpResponse::Redirect(302, std::string("/a\x01"
                                                                   "b")));
  server.Route("/gz", HttpResponse::Text(200, std::string(10000, 'g')).WithEncoding(E::kGzip));
  server.Route("/deflate",
               HttpResponse::Text(200, std::string(10000, 'd')).WithEncoding(E::kDeflate));
  server.Route("/rawdeflate",
               HttpResponse::Text(200, std::string(10000, 'r')).WithEncoding(E::kRawDeflate));
  server.Route("/bomb", HttpResponse::GzipBomb(uint64_t{10} << 30));
  server.Route("/corruptgz", HttpResponse::Raw(std::string(
                                 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                 "Content-Length: 20\r\n\r\n\x1f\x8b\x08\x00garbagegarbage!!",
                                 83)));
  server.Route("/truncgz", HttpResponse::Text(200, std::string(100000, 'x'))
                               .WithEncoding(E::kGzip)
                               .WithFault(F::kCloseAfterBodyBytes, 50));
  server.Route("/slow", HttpResponse::Text(200, "slow").WithDelayBeforeHead(absl::Seconds(2)));
  server.Route("/slow5", HttpResponse::Text(200, "slow").WithDelayBeforeHead(absl::Seconds(5)));
  server.Route("/stall", HttpResponse::Stall());
  server.Route(
      "/stallbody",
      HttpResponse::Text(200, std::string(1000, 's')).WithFault(F::kStallAfterBodyBytes, 10));
  server.Route(
      "/trickle",
      HttpResponse::Text(200, std::string(100, 't')).WithTrickle(1, absl::Milliseconds(100)));
  server.Route("/trickle_head",
               HttpResponse::Text(200, "x").WithTrickle(1, absl::Milliseconds(300)));
  server.Route("/reset", HttpResponse::Reset());
  server.Route("/close", HttpResponse::Close());
  server.Route(
      "/cut",
      HttpResponse::Text(200, std::string(1000, 'c')).WithFault(F::kCloseAfterBodyBytes, 100));
  server.Route("/cutchunk", HttpResponse::Text(200, std::string(1000, 'c'))
                                .WithChunks({100, 100})
                                .WithFault(F::kCloseAfterBodyBytes, 150));
  server.Route(
      "/resetbody",
      HttpResponse::Text(200, std::string(1000, 'c')).WithFault(F::kResetAfterBodyBytes, 100));
  server.Route("/endless", HttpResponse::Text(200, "x").WithFault(F::kEndlessHeaders));
  server.Route("/hugehdr", HttpResponse::Text(200, "x").WithHugeHeader(1 << 20));
  server.Route("/badstatus", HttpResponse::Raw("HTTP/1.1 2OO OK\r\n\r\n"));
  server.Route("/conflict", HttpResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  server.Route("/garbage", HttpResponse::Raw(std::string("\x00\x01\x02garbage\r\n\r\n", 14)));
  server.Route("/untilclose", [](const HttpRequest&) {
    HttpResponse r = HttpResponse::Text(200, "until close body");
    r.framing = HttpResponse::Framing::kUntilClose;
    return r;
  });
  server.Route("/big", HttpResponse::Text(200, std::string(10 << 20, 'b')));
  server.Route("/chunked",
               HttpResponse::Text(200, std::string(5000, 'k')).WithChunks({1, 10, 100}));
  server.Route("/head100", HttpResponse::Text(200, "after interim").WithInterim({100, 103}));
  server.Route("/binary", HttpResponse::Text(200, std::string("\x00\xff\xfe\n\x00", 5)));
  server.Route("/nolen_close", HttpResponse::Raw("HTTP/1.1 200 OK\r\n\r\nraw body"));
  server.Route("/http10", HttpResponse::Raw("HTTP/1.0 200 OK\r\n\r\nhttp10 body"));
  server.Route("/status999", HttpResponse::Raw("HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n"));
  server.Route("/status099", HttpResponse::Raw("HTTP/1.1 099 Weird\r\nContent-Length: 0\r\n\r\n"));
  server.Route("/stats", [sp](const HttpRequest&) {
    FakeHttpServer::Stats st = sp->stats();
    std::string hosts;
    for (const auto& [h, n] : st.max_in_flight_by_host)
      absl::StrAppend(&hosts, hosts.empty() ? "" : ",", "\"", h, "\":", n);
    return HttpResponse::Json(
        200, absl::StrCat("{\"connections_accepted\":", st.connections_accepted,
                          ",\"connections_open\":", st.connections_open,
                          ",\"requests\":", st.requests, ",\"max_in_flight\":", st.max_in_flight,
                          ",\"tls_handshakes\":", st.tls_handshakes, ",\"tls_resumed\":",
                          st.tls_sessions_resumed, ",\"max_in_flight_by_host\":{", hosts, "}}"));
  });
  server.Route("/reset_stats", [sp](const HttpRequest&) {
    sp->ResetStats();
    return HttpResponse::Text(200, "reset");
  });
  server.RoutePrefix("/d/", [](const HttpRequest& r) {
    return HttpResponse::Text(200, absl::StrCat("delayed ", r.path))
        .WithDelayBeforeHead(absl::Milliseconds(200));
  });
  server.RoutePrefix("/p/", [](const HttpRequest& r) { return HttpResponse::Text(200, r.path); });
  std::printf("URL %s\n", base.c_str());
  if (certs) std::printf("CA %s\n", certs->ca_file().c_str());
  std::fflush(stdout);
  char buf[256];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
