// FakeHttpServer over TLS (Options::tls), with certificates from //testing:tls_certs.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_stream.h"
#include "net/tls/tls_context.h"
#include "net/tls/tls_stream.h"
#include "tasks/sleep.h"
#include "tasks/with_timeout.h"
#include "testing/fd_leak_check.h"
#include "testing/http_server.h"
#include "testing/raw_http_client.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tls_certs.h"

namespace corio::testing {
namespace {

using ::testing::HasSubstr;
using Fault = HttpResponse::Fault;

class HttpsServerTest : public FdLeakCheck {
 protected:
  // Made once, before the first test's fd count.
  static void SetUpTestSuite() { certs_ = new TlsCerts(TlsCerts::Create().value()); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static FakeHttpServer::Options TlsOptions() {
    tls::ServerOptions server;
    server.cert_pem = certs_->server().cert_pem;
    server.key_pem = certs_->server().key_pem;
    FakeHttpServer::Options options;
    options.tls = tls::TlsContext::CreateServer(std::move(server)).value();
    return options;
  }
  static std::shared_ptr<tls::TlsContext> ClientContext() {
    tls::ClientOptions client;
    client.ca_pem = certs_->ca_pem();
    return tls::TlsContext::CreateClient(std::move(client)).value();
  }
  static tls::TlsStream& AsTls(RawHttpConn& c) { return dynamic_cast<tls::TlsStream&>(c.stream()); }

  static TlsCerts* certs_;
};

TlsCerts* HttpsServerTest::certs_ = nullptr;

TEST_F(HttpsServerTest, ServesOverTlsWithKeepAliveSniAndResumption) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(TlsOptions()));
    server->Route("/hello", HttpResponse::Text(200, "hello over tls"));
    EXPECT_EQ(server->url("/hello"), absl::StrCat("https://127.0.0.1:", server->port(), "/hello"));
    std::shared_ptr<tls::TlsContext> client = ClientContext();
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      for (int i = 0; i < 2; ++i) {
        CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/hello"));
        absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
        if (!r.ok()) co_return r.status();
        EXPECT_EQ(r->body, "hello over tls");
      }
      EXPECT_EQ(AsTls(c).alpn(), "http/1.1");
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "127.0.0.1"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/hello"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->status == 200);
    }
    {
      // Same host and port as the first: the client offers its ticket.
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/hello"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->status == 200);
      EXPECT_TRUE(AsTls(c).session_reused());
    }
    FakeHttpServer::Stats s = server->stats();
    EXPECT_EQ(s.connections_accepted, 3);
    EXPECT_EQ(s.tls_handshakes, 3);
    EXPECT_EQ(s.tls_sessions_resumed, 1);
    EXPECT_EQ(s.tls_handshake_failures, 0);
    std::vector<HttpRequest> log = server->received_requests();
    EXPECT_TRUE(log[0].tls);
    EXPECT_EQ(log[0].tls_server_name, "localhost");
    EXPECT_EQ(log[2].tls_server_name, "");  // no SNI for an IP literal
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpsServerTest, ClosesPolitelyOrAbruptlyAsScripted) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(TlsOptions()));
    server->Route("/bye", HttpResponse::Text(200, "bye").WithClose());
    server->Route("/cut", HttpResponse::Text(200, std::string(1000, 'c'))
                              .WithFault(Fault::kCloseAfterBodyBytes, 100));
    server->Route(
        "/reset",
        HttpResponse::Text(200, std::string(1000, 'r')).WithFault(Fault::kResetAfterBodyBytes, 10));
    server->Route("/stall", HttpResponse::Stall());
    std::shared_ptr<tls::TlsContext> client = ClientContext();
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/bye"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_TRUE(r.ok() && r->body == "bye");
      absl::StatusOr<std::string> rest = co_await c.ReadToEof();
      EXPECT_THAT(rest, IsOkAndHolds(""));
      EXPECT_TRUE(AsTls(c).close_notify_received());
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/cut"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      if (!got.ok()) co_return got.status();
      EXPECT_TRUE(absl::EndsWith(*got, "\r\n\r\n" + std::string(100, 'c')));
      EXPECT_FALSE(AsTls(c).close_notify_received());  // a truncation, as scripted
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/reset"));
      absl::StatusOr<std::string> got = co_await c.ReadToEof();
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reset")));
    }
    {
      CORIO_CO_ASSIGN_OR_RETURN(
          RawHttpConn c, co_await RawHttpConn::OpenTls(server->address(), client, "localhost"));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/stall"));
      absl::StatusOr<RawHttpReply> r = co_await WithTimeout(absl::Minutes(5), c.ReadReply());
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpsServerTest, WrongPartnersFailFast) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto tls_server, FakeHttpServer::Start(TlsOptions()));
    CORIO_CO_ASSIGN_OR_RETURN(auto plain_server, FakeHttpServer::Start());
    // Plain HTTP to the TLS port: the handshake fails, the connection ends, it is counted.
    {
      CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(tls_server->address()));
      CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
      absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
      EXPECT_FALSE(r.ok());
    }
    while (tls_server->stats().tls_handshake_failures == 0) {
      CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    }
    EXPECT_EQ(tls_server->requests(), 0);
    // TLS to the plain port: the server answers 400 at once, which is not TLS.
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<RawHttpConn> to_plain =
        co_await RawHttpConn::OpenTls(plain_server->address(), ClientContext(), "localhost");
    EXPECT_THAT(to_plain, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_LT(EventLoop::Current()->Now() - start, absl::Seconds(1));
    // A client that does not trust the server's CA.
    absl::StatusOr<std::shared_ptr<tls::TlsContext>> untrusting = tls::TlsContext::CreateClient();
    if (!untrusting.ok()) co_return untrusting.status();
    absl::StatusOr<RawHttpConn> distrust =
        co_await RawHttpConn::OpenTls(tls_server->address(), *untrusting, "localhost");
    EXPECT_THAT(distrust, StatusIs(absl::StatusCode::kUnauthenticated));
    while (tls_server->stats().tls_handshake_failures < 2) {
      CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpsServerTest, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  auto main = []() -> Task<absl::Status> {
    FakeHttpServer::Options options = TlsOptions();
    options.tls_handshake_timeout = absl::Seconds(3);
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start(options));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream c, co_await TcpStream::Connect(server->address()));
    const absl::Time start = EventLoop::Current()->Now();
    char buf[16];
    absl::StatusOr<size_t> n = co_await c.Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(0));
    EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(3));
    EXPECT_EQ(server->stats().tls_handshake_failures, 1);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(HttpsServerTest, BackgroundServerOverTls) {
  absl::StatusOr<std::unique_ptr<FakeHttpServer>> server =
      FakeHttpServer::StartInBackground(TlsOptions());
  ASSERT_THAT(server, IsOk());
  (*server)->Route("/", HttpResponse::Text(200, "bg"));
  auto get = [](SocketAddress address,
                std::shared_ptr<tls::TlsContext> ctx) -> Task<absl::StatusOr<RawHttpReply>> {
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c,
                              co_await RawHttpConn::OpenTls(address, std::move(ctx), "localhost"));
    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
    co_return co_await c.ReadReply();
  };
  absl::StatusOr<RawHttpReply> r = RunTaskRealTime(get((*server)->address(), ClientContext()));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body, "bg");
  EXPECT_EQ((*server)->stats().tls_handshakes, 1);
  server->reset();
}

}  // namespace
}  // namespace corio::testing
