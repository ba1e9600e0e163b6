// TlsStream client and server over loopback TCP, on one loop with virtual time: handshakes
// (TLS 1.2 and 1.3), verification failures and their messages, ALPN, SNI, resumption, bulk
// data, EOF with and without close_notify, resets, non-TLS peers, cancellation at every step
// of a handshake, and no fd or memory left behind by a thousand failed handshakes.
#include "net/tls/tls_stream.h"

#include <malloc.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/tcp_listener.h"
#include "net/tcp_stream.h"
#include "net/tls/tls_context.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tcp_server.h"
#include "testing/tls_certs.h"

#ifdef __SANITIZE_THREAD__
// Debian's OpenSSL is not built for ThreadSanitizer: TSan cannot see the atomics inside it
// (reference counts, X509's double-checked extension cache) and reports races between two
// threads' frames in libcrypto on objects OpenSSL does synchronize (a CA certificate both
// loops verify against). Races whose stacks do not pass through OpenSSL are still reported.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libcrypto.so\n"
         "race:libssl.so\n";
}
#endif

namespace corio::tls {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::corio::testing::TlsCerts;
using ::testing::AllOf;
using ::testing::HasSubstr;

using StreamOr = absl::StatusOr<std::unique_ptr<TlsStream>>;

const TlsCerts& Certs() {
  static const TlsCerts certs = TlsCerts::Create().value();
  return certs;
}

std::shared_ptr<TlsContext> ServerContext(const CertAndKey& cert, ServerOptions options) {
  options.cert_pem = cert.cert_pem;
  options.key_pem = cert.key_pem;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateServer(std::move(options));
  EXPECT_THAT(ctx, IsOk());
  return ctx.ok() ? *ctx : nullptr;
}

std::shared_ptr<TlsContext> ServerContext(const CertAndKey& cert) {
  return ServerContext(cert, ServerOptions());
}

// Trusts the test CA unless the options say otherwise.
std::shared_ptr<TlsContext> ClientContext(ClientOptions options) {
  if (options.ca_file.empty() && options.ca_pem.empty()) options.ca_pem = Certs().ca_pem();
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateClient(std::move(options));
  EXPECT_THAT(ctx, IsOk());
  return ctx.ok() ? *ctx : nullptr;
}

std::shared_ptr<TlsContext> ClientContext() { return ClientContext(ClientOptions()); }

struct Transports {
  std::unique_ptr<ByteStream> client;
  std::unique_ptr<ByteStream> server;
};

Task<absl::StatusOr<Transports>> ConnectVia(TcpListener* listener) {
  CORIO_CO_ASSIGN_OR_RETURN(
      auto both,
      co_await Gather(TcpStream::Connect(listener->local_address()), listener->Accept()));
  Transports t;
  t.client = std::make_unique<TcpStream>(std::move(std::get<0>(both)));
  t.server = std::make_unique<TcpStream>(std::move(std::get<1>(both)));
  co_return t;
}

struct Handshakes {
  StreamOr client;
  StreamOr server;
};

// Connect and Accept at once over a fresh loopback connection; both outcomes.
Task<Handshakes> HandshakeVia(TcpListener* listener, std::shared_ptr<TlsContext> client_ctx,
                              std::shared_ptr<TlsContext> server_ctx, std::string host) {
  absl::StatusOr<Transports> t = co_await ConnectVia(listener);
  if (!t.ok()) co_return Handshakes{t.status(), t.status()};
  std::vector<Task<StreamOr>> tasks;
  tasks.push_back(TlsStream::Connect(std::move(client_ctx), std::move(t->client), std::move(host)));
  tasks.push_back(TlsStream::Accept(std::move(server_ctx), std::move(t->server)));
  std::vector<StreamOr> results = co_await GatherSettled(std::move(tasks));
  co_return Handshakes{std::move(results[0]), std::move(results[1])};
}

Task<Handshakes> Handshake(std::shared_ptr<TlsContext> client_ctx,
                           std::shared_ptr<TlsContext> server_ctx, std::string host) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return Handshakes{listener.status(), listener.status()};
  co_return co_await HandshakeVia(&*listener, std::move(client_ctx), std::move(server_ctx),
                                  std::move(host));
}

Task<absl::StatusOr<std::string>> ReadToEnd(ByteStream* s, size_t read_size) {
  std::string got;
  std::vector<char> buf(read_size);
  for (;;) {
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return got;
    got.append(buf.data(), *n);
  }
}

// Echoes until EOF, then shuts down its side.
Task<absl::Status> Echo(ByteStream* s, size_t read_size) {
  std::vector<char> buf(read_size);
  for (;;) {
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return co_await s->Shutdown();
    }
    CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAll(absl::string_view(buf.data(), *n)));
  }
}

Task<absl::Status> WriteThenShutdown(ByteStream* s, const std::string* data) {
  CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAll(*data));
  co_return co_await s->Shutdown();
}

// Sends `data`, half-closes, and returns what the echo sent back.
Task<absl::StatusOr<std::string>> RoundTrip(ByteStream* s, const std::string* data,
                                            size_t read_size) {
  CORIO_CO_ASSIGN_OR_RETURN(auto results,
                            co_await Gather(WriteThenShutdown(s, data), ReadToEnd(s, read_size)));
  co_return std::get<1>(std::move(results));
}

class TlsStreamTest : public corio::testing::FdLeakCheck {
 protected:
  void SetUp() override { ASSERT_EQ(ERR_peek_error(), 0u); }
  // No OpenSSL error is left on this thread for the next connection to trip over.
  void TearDown() override { EXPECT_EQ(ERR_peek_error(), 0u); }
};

// --- handshakes that succeed ---------------------------------------------------------------

Task<absl::Status> HandshakeAndEcho(TlsVersion version, std::string expected_version) {
  ServerOptions server_options;
  server_options.min_version = server_options.max_version = version;
  auto server_ctx = ServerContext(Certs().server(), server_options);
  Handshakes h = co_await Handshake(ClientContext(), server_ctx, "localhost");
  CORIO_CO_RETURN_IF_ERROR(h.client.status());
  CORIO_CO_RETURN_IF_ERROR(h.server.status());
  TlsStream& client = **h.client;
  TlsStream& server = **h.server;
  EXPECT_EQ(client.version(), expected_version);
  EXPECT_EQ(server.version(), expected_version);
  EXPECT_EQ(client.alpn(), "http/1.1");
  EXPECT_EQ(server.alpn(), "http/1.1");
  EXPECT_EQ(client.server_name(), "localhost");
  EXPECT_EQ(server.server_name(), "localhost");  // SNI
  EXPECT_FALSE(client.session_reused());
  EXPECT_FALSE(client.cipher().empty());
  EXPECT_THAT(client.peer_description(), HasSubstr("localhost (127.0.0.1:"));
  const std::string message = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  CORIO_CO_ASSIGN_OR_RETURN(
      auto results, co_await Gather(RoundTrip(&client, &message, 4096), Echo(&server, 4096)));
  EXPECT_EQ(std::get<0>(results), message);
  EXPECT_TRUE(client.close_notify_received());
  EXPECT_TRUE(server.close_notify_received());
  co_return absl::OkStatus();
}

TEST_F(TlsStreamTest, Tls13HandshakeAndEcho) {
  EXPECT_THAT(RunTask(HandshakeAndEcho(TlsVersion::kTls13, "TLSv1.3")), IsOk());
}

TEST_F(TlsStreamTest, Tls12HandshakeAndEcho) {
  EXPECT_THAT(RunTask(HandshakeAndEcho(TlsVersion::kTls12, "TLSv1.2")), IsOk());
}

TEST_F(TlsStreamTest, TrustsACaFile) {
  auto main = []() -> Task<absl::Status> {
    ClientOptions options;
    options.ca_file = Certs().ca_file();
    Handshakes h =
        co_await Handshake(ClientContext(options), ServerContext(Certs().server()), "localhost");
    EXPECT_THAT(h.client, IsOk());
    EXPECT_THAT(h.server, IsOk());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, ServerFromFiles) {
  auto main = []() -> Task<absl::Status> {
    ServerOptions options;
    options.cert_file = Certs().server_cert_file();
    options.key_file = Certs().server_key_file();
    CORIO_CO_ASSIGN_OR_RETURN(auto server_ctx, TlsContext::CreateServer(options));
    Handshakes h = co_await Handshake(ClientContext(), server_ctx, "localhost");
    EXPECT_THAT(h.client, IsOk());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// An IP literal is checked against the certificate's IP SANs and is not sent as SNI.
TEST_F(TlsStreamTest, IpLiteralsMatchIpSansWithoutSni) {
  auto main = []() -> Task<absl::Status> {
    auto client_ctx = ClientContext();
    auto server_ctx = ServerContext(Certs().server());
    for (std::string host : {"127.0.0.1", "::1", "[::1]"}) {
      Handshakes h = co_await Handshake(client_ctx, server_ctx, host);
      EXPECT_THAT(h.client, IsOk()) << host;
      EXPECT_THAT(h.server, IsOk()) << host;
      if (!h.client.ok() || !h.server.ok()) continue;
      EXPECT_EQ((*h.client)->server_name(), "") << host;
      EXPECT_EQ((*h.server)->server_name(), "") << host;
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, NameWithTrailingDotMatches) {
  auto main = []() -> Task<absl::Status> {
    Handshakes h =
        co_await Handshake(ClientContext(), ServerContext(Certs().server()), "localhost.");
    EXPECT_THAT(h.client, IsOk());
    if (h.server.ok()) {
      EXPECT_EQ((*h.server)->server_name(), "localhost");
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, AlpnPicksACommonProtocolOrNone) {
  auto main = []() -> Task<absl::Status> {
    ClientOptions client_options;
    client_options.alpn = {"h2", "http/1.1"};
    Handshakes h = co_await Handshake(ClientContext(client_options),
                                      ServerContext(Certs().server()), "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    EXPECT_EQ((*h.client)->alpn(), "http/1.1");

    ServerOptions server_options;
    server_options.alpn = {"h2"};
    h = co_await Handshake(ClientContext(), ServerContext(Certs().server(), server_options),
                           "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());  // no common protocol: connected without ALPN
    EXPECT_EQ((*h.client)->alpn(), "");
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, InsecureAcceptsAnyCertificate) {
  auto main = []() -> Task<absl::Status> {
    ClientOptions options;
    options.insecure = true;
    auto client_ctx = TlsContext::CreateClient(options).value();
    for (const CertAndKey* cert :
         {&Certs().self_signed(), &Certs().expired(), &Certs().wrong_name()}) {
      Handshakes h = co_await Handshake(client_ctx, ServerContext(*cert), "localhost");
      EXPECT_THAT(h.client, IsOk());
    }
    Handshakes h = co_await Handshake(client_ctx, ServerContext(Certs().server()), "");
    EXPECT_THAT(h.client, IsOk());  // insecure needs no host
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- verification failures: UNAUTHENTICATED, with OpenSSL's reason and the peer -------------

struct Refusal {
  const CertAndKey* (*cert)();
  std::string host;
  std::string reason;
};

class TlsVerifyTest : public TlsStreamTest, public ::testing::WithParamInterface<Refusal> {};

Task<absl::Status> ExpectRefused(Refusal r) {
  Handshakes h = co_await Handshake(ClientContext(), ServerContext(*r.cert()), r.host);
  EXPECT_THAT(h.client, StatusIs(absl::StatusCode::kUnauthenticated,
                                 AllOf(HasSubstr("tls handshake with "), HasSubstr("127.0.0.1:"),
                                       HasSubstr("certificate verify failed: " + r.reason))));
  // The server hears why: the client's alert.
  EXPECT_THAT(h.server, StatusIs(absl::StatusCode::kUnauthenticated,
                                 HasSubstr("the peer rejected the certificate")));
  co_return absl::OkStatus();
}

TEST_P(TlsVerifyTest, Refused) { EXPECT_THAT(RunTask(ExpectRefused(GetParam())), IsOk()); }

INSTANTIATE_TEST_SUITE_P(
    Certificates, TlsVerifyTest,
    ::testing::Values(
        Refusal{[] { return &Certs().self_signed(); }, "localhost", "self-signed certificate"},
        Refusal{[] { return &Certs().unrelated_ca_leaf(); }, "localhost",
                "self-signed certificate in certificate chain"},
        Refusal{[] { return &Certs().expired(); }, "localhost", "certificate has expired"},
        Refusal{[] { return &Certs().wrong_name(); }, "localhost",
                "hostname mismatch (the certificate is for wrong.example)"},
        Refusal{[] { return &Certs().server(); }, "other.example",
                "hostname mismatch (the certificate is for localhost, 127.0.0.1, ::1)"},
        Refusal{[] { return &Certs().server(); }, "127.0.0.2", "IP address mismatch"},
        Refusal{[] { return &Certs().wrong_name(); }, "127.0.0.1",
                "IP address mismatch (the certificate is for wrong.example)"}));

TEST_F(TlsStreamTest, SystemStoreDoesNotKnowThePrivateCa) {
  auto main = []() -> Task<absl::Status> {
    auto client_ctx = TlsContext::CreateClient().value();  // the system store
    Handshakes h = co_await Handshake(client_ctx, ServerContext(Certs().server()), "localhost");
    EXPECT_THAT(h.client,
                StatusIs(absl::StatusCode::kUnauthenticated,
                         HasSubstr("certificate verify failed: unable to get local issuer")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A machine without the ca-certificates package: a clear failure that says so.
TEST_F(TlsStreamTest, EmptySystemStoreSaysSo) {
  setenv("SSL_CERT_FILE", "/nonexistent/corio/cert.pem", 1);
  setenv("SSL_CERT_DIR", "/nonexistent/corio/certs", 1);
  absl::StatusOr<std::shared_ptr<TlsContext>> client_ctx = TlsContext::CreateClient();
  unsetenv("SSL_CERT_FILE");
  unsetenv("SSL_CERT_DIR");
  ASSERT_THAT(client_ctx, IsOk());
  EXPECT_TRUE((*client_ctx)->system_store_empty());
  auto main = [](std::shared_ptr<TlsContext> ctx) -> Task<absl::Status> {
    Handshakes h = co_await Handshake(ctx, ServerContext(Certs().server()), "localhost");
    EXPECT_THAT(h.client, StatusIs(absl::StatusCode::kUnauthenticated,
                                   AllOf(HasSubstr("unable to get local issuer certificate"),
                                         HasSubstr("install the ca-certificates package"))));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main(*client_ctx)), IsOk());
}

TEST_F(TlsStreamTest, VersionMismatchIsUnavailable) {
  auto main = []() -> Task<absl::Status> {
    ClientOptions client_options;
    client_options.max_version = TlsVersion::kTls12;
    ServerOptions server_options;
    server_options.min_version = TlsVersion::kTls13;
    Handshakes h = co_await Handshake(ClientContext(client_options),
                                      ServerContext(Certs().server(), server_options), "localhost");
    EXPECT_THAT(h.client, StatusIs(absl::StatusCode::kUnavailable,
                                   AllOf(HasSubstr("no TLS version in common with the peer"),
                                         HasSubstr("protocol version"))));
    EXPECT_THAT(h.server, StatusIs(absl::StatusCode::kUnavailable,
                                   AllOf(HasSubstr("no TLS version in common with the peer"),
                                         HasSubstr("unsupported protocol"))));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, BadArguments) {
  auto main = []() -> Task<absl::Status> {
    auto server_ctx = ServerContext(Certs().server());
    Handshakes h = co_await Handshake(server_ctx, server_ctx, "localhost");
    EXPECT_THAT(h.client, StatusIs(absl::StatusCode::kInvalidArgument));
    h = co_await Handshake(ClientContext(), ClientContext(), "localhost");
    EXPECT_THAT(h.server, StatusIs(absl::StatusCode::kInvalidArgument));
    h = co_await Handshake(ClientContext(), server_ctx, "");
    EXPECT_THAT(h.client, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("host")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- peers that do not speak TLS, or go away -----------------------------------------------

// A plain HTTP server: reads the request (a ClientHello, here), answers 400 and closes.
Task<absl::Status> PlainHttpServer(TcpListener* listener) {
  CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn, co_await listener->Accept());
  std::vector<char> buf(4096);
  absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
  if (!n.ok()) co_return n.status();
  CORIO_CO_RETURN_IF_ERROR(co_await conn.WriteAll(
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  CORIO_CO_RETURN_IF_ERROR(co_await conn.Shutdown());
  absl::StatusOr<std::string> rest = co_await ReadToEnd(&conn, 4096);
  (void)rest;
  co_return absl::OkStatus();
}

TEST_F(TlsStreamTest, TlsToAPlainServerSaysTheServerDoesNotSpeakTls) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    JoinHandle<absl::Status> server = Spawn(PlainHttpServer(&listener));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream tcp, co_await TcpStream::Connect(listener.local_address()));
    StreamOr client = co_await TlsStream::Connect(
        ClientContext(), std::make_unique<TcpStream>(std::move(tcp)), "localhost");
    EXPECT_THAT(client, StatusIs(absl::StatusCode::kUnavailable,
                                 AllOf(HasSubstr("tls handshake with localhost (127.0.0.1:"),
                                       HasSubstr("the peer does not speak TLS"))));
    co_return co_await std::move(server);
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, PlainHttpToATlsServerSaysTheClientDoesNotSpeakTls) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    CORIO_CO_ASSIGN_OR_RETURN(Transports t, co_await ConnectVia(&listener));
    const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CORIO_CO_RETURN_IF_ERROR(co_await t.client->WriteAll(request));
    StreamOr server =
        co_await TlsStream::Accept(ServerContext(Certs().server()), std::move(t.server));
    EXPECT_THAT(server, StatusIs(absl::StatusCode::kUnavailable,
                                 AllOf(HasSubstr("tls handshake with 127.0.0.1:"),
                                       HasSubstr("the peer does not speak TLS"))));
    // The plain client is not left hanging: the server closed.
    absl::StatusOr<std::string> rest = co_await ReadToEnd(t.client.get(), 4096);
    EXPECT_THAT(rest, IsOk());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Reads the ClientHello, then closes the connection (FIN) or resets it (RST).
Task<absl::Status> ReadThenHangUp(TcpListener* listener, bool reset) {
  CORIO_CO_ASSIGN_OR_RETURN(TcpStream conn, co_await listener->Accept());
  std::vector<char> buf(4096);
  absl::StatusOr<size_t> n = co_await conn.Read(absl::MakeSpan(buf));
  if (!n.ok()) co_return n.status();
  if (reset) {
    const linger abort_on_close{1, 0};
    setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  co_return absl::OkStatus();
}

TEST_F(TlsStreamTest, ServerClosingOrResettingDuringTheHandshake) {
  auto main = []() -> Task<absl::Status> {
    for (bool reset : {false, true}) {
      CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener,
                                TcpListener::Bind(SocketAddress::Loopback4(0)));
      JoinHandle<absl::Status> server = Spawn(ReadThenHangUp(&listener, reset));
      CORIO_CO_ASSIGN_OR_RETURN(TcpStream tcp,
                                co_await TcpStream::Connect(listener.local_address()));
      auto client_ctx = ClientContext();
      StreamOr client = co_await TlsStream::Connect(
          client_ctx, std::make_unique<TcpStream>(std::move(tcp)), "localhost");
      EXPECT_THAT(client, StatusIs(absl::StatusCode::kUnavailable,
                                   AllOf(HasSubstr("tls handshake with localhost (127.0.0.1:"),
                                         HasSubstr(reset ? "reset" : "closed the connection"))));
      CORIO_CO_RETURN_IF_ERROR(co_await std::move(server));
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, HandshakeWithASilentServerTimesOut) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, corio::testing::FakeTcpServer::Start(
                                               corio::testing::FakeTcpServer::Behavior::kStall));
    CORIO_CO_ASSIGN_OR_RETURN(TcpStream tcp, co_await TcpStream::Connect(server->address()));
    StreamOr client = co_await WithTimeout(
        absl::Seconds(10),
        TlsStream::Connect(ClientContext(), std::make_unique<TcpStream>(std::move(tcp)),
                           "localhost"));
    EXPECT_THAT(client, StatusIs(absl::StatusCode::kDeadlineExceeded));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- data ----------------------------------------------------------------------------------

TEST_F(TlsStreamTest, TenMebibytesBothWaysWithShortReads) {
  auto main = []() -> Task<absl::Status> {
    Handshakes h =
        co_await Handshake(ClientContext(), ServerContext(Certs().server()), "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    std::string sent(10 << 20, '\0');
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + i / 4099);
    CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(RoundTrip(h.client->get(), &sent, 1000),
                                                            Echo(h.server->get(), 777)));
    EXPECT_EQ(std::get<0>(results).size(), sent.size());
    EXPECT_TRUE(std::get<0>(results) == sent);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, EofWithAndWithoutCloseNotify) {
  auto main = []() -> Task<absl::Status> {
    auto client_ctx = ClientContext();
    auto server_ctx = ServerContext(Certs().server());
    // Close() sends close_notify.
    Handshakes h = co_await Handshake(client_ctx, server_ctx, "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->WriteAll("last words"));
    (*h.server)->Close();
    absl::StatusOr<std::string> got = co_await ReadToEnd(h.client->get(), 3);
    EXPECT_THAT(got, IsOk());
    EXPECT_EQ(got.value_or(""), "last words");
    EXPECT_TRUE((*h.client)->close_notify_received());
    std::vector<char> buf(16);
    absl::StatusOr<size_t> again = co_await (*h.client)->Read(absl::MakeSpan(buf));
    EXPECT_THAT(again, IsOk());
    EXPECT_EQ(again.value_or(1), 0u);  // EOF stays EOF

    // The transport closing without close_notify: EOF too, but marked (a truncation, maybe).
    h = co_await Handshake(client_ctx, server_ctx, "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->WriteAll("cut"));
    (*h.server)->transport().Close();
    got = co_await ReadToEnd(h.client->get(), 100);
    EXPECT_THAT(got, IsOk());
    EXPECT_EQ(got.value_or(""), "cut");
    EXPECT_FALSE((*h.client)->close_notify_received());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, ResetIsUnavailable) {
  auto main = []() -> Task<absl::Status> {
    Handshakes h =
        co_await Handshake(ClientContext(), ServerContext(Certs().server()), "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    auto& tcp = dynamic_cast<TcpStream&>((*h.server)->transport());
    const linger abort_on_close{1, 0};
    setsockopt(tcp.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    tcp.Close();
    absl::StatusOr<std::string> got = co_await ReadToEnd(h.client->get(), 100);
    EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:")));
    // Sticky: the stream stays failed.
    std::vector<char> buf(16);
    absl::StatusOr<size_t> again = co_await (*h.client)->Read(absl::MakeSpan(buf));
    EXPECT_THAT(again, StatusIs(absl::StatusCode::kUnavailable));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, WriteAfterShutdownFails) {
  auto main = []() -> Task<absl::Status> {
    Handshakes h =
        co_await Handshake(ClientContext(), ServerContext(Certs().server()), "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(co_await (*h.client)->Shutdown());
    absl::Status late = co_await (*h.client)->WriteAll("late");
    EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Shutdown")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- cancellation --------------------------------------------------------------------------

TEST_F(TlsStreamTest, CancelledReadTakesNothingAndTheStreamGoesOn) {
  auto main = []() -> Task<absl::Status> {
    Handshakes h =
        co_await Handshake(ClientContext(), ServerContext(Certs().server()), "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    TlsStream* client = h.client->get();
    std::vector<char> buf(64);
    JoinHandle<absl::StatusOr<size_t>> read = Spawn(client->Read(absl::MakeSpan(buf)));
    for (int i = 0; i < 5; ++i) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    read.Cancel();
    absl::StatusOr<size_t> cancelled = co_await std::move(read);
    EXPECT_THAT(cancelled, StatusIs(absl::StatusCode::kCancelled));
    CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->WriteAll("after"));
    CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await client->Read(absl::MakeSpan(buf)));
    EXPECT_EQ(std::string(buf.data(), n), "after");
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Cancels the client's handshake after 0, 3, 6, ... loop turns (the loop polls I/O every few
// dozen turns while tasks are ready): every step of the exchange sees a cancellation; each ends in
// CANCELLED or a finished handshake, and nothing leaks.
TEST_F(TlsStreamTest, HandshakeCancelledAtEveryStep) {
  auto main = []() -> Task<absl::Status> {
    auto client_ctx = ClientContext();
    auto server_ctx = ServerContext(Certs().server());
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    int cancelled = 0;
    int finished = 0;
    for (int turns = 0; turns < 1000 && finished < 3; turns += 3) {
      CORIO_CO_ASSIGN_OR_RETURN(Transports t, co_await ConnectVia(&listener));
      JoinHandle<StreamOr> client =
          Spawn(TlsStream::Connect(client_ctx, std::move(t.client), "localhost"));
      JoinHandle<StreamOr> server = Spawn(TlsStream::Accept(server_ctx, std::move(t.server)));
      for (int i = 0; i < turns; ++i) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
      client.Cancel();
      StreamOr c = co_await std::move(client);
      StreamOr s = co_await std::move(server);
      if (c.ok()) {
        ++finished;
      } else {
        EXPECT_THAT(c, StatusIs(absl::StatusCode::kCancelled)) << "after " << turns << " turns";
        ++cancelled;
      }
    }
    EXPECT_GT(cancelled, 10);
    EXPECT_EQ(finished, 3);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- resumption ----------------------------------------------------------------------------

Task<absl::Status> ExpectResumption(TlsVersion version, bool tickets, bool client_cache,
                                    bool expect_reused) {
  ServerOptions server_options;
  server_options.min_version = server_options.max_version = version;
  server_options.session_tickets = tickets;
  server_options.session_cache = tickets;
  auto server_ctx = ServerContext(Certs().server(), server_options);
  ClientOptions client_options;
  client_options.session_resumption = client_cache;
  auto client_ctx = ClientContext(client_options);
  CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
  for (int i = 0; i < 4; ++i) {
    Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "localhost");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    CORIO_CO_RETURN_IF_ERROR(h.server.status());
    const bool reused = expect_reused && i > 0;
    EXPECT_EQ((*h.client)->session_reused(), reused) << "connection " << i;
    EXPECT_EQ((*h.server)->session_reused(), reused) << "connection " << i;
    // An exchange, so the client reads what the server sent after the handshake (tickets).
    const std::string ping = "ping";
    CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(RoundTrip(h.client->get(), &ping, 64),
                                                            Echo(h.server->get(), 64)));
    EXPECT_EQ(std::get<0>(results), ping);
  }
  if (!client_cache) {
    EXPECT_EQ(client_ctx->cached_sessions(), 0u);
  }
  co_return absl::OkStatus();
}

TEST_F(TlsStreamTest, Tls13ResumesWithTickets) {
  EXPECT_THAT(RunTask(ExpectResumption(TlsVersion::kTls13, true, true, true)), IsOk());
}

TEST_F(TlsStreamTest, Tls12Resumes) {
  EXPECT_THAT(RunTask(ExpectResumption(TlsVersion::kTls12, true, true, true)), IsOk());
}

TEST_F(TlsStreamTest, NoResumptionWhenTheServerOffersNone) {
  EXPECT_THAT(RunTask(ExpectResumption(TlsVersion::kTls13, false, true, false)), IsOk());
  EXPECT_THAT(RunTask(ExpectResumption(TlsVersion::kTls12, false, true, false)), IsOk());
}

TEST_F(TlsStreamTest, NoResumptionWhenTheClientCacheIsOff) {
  EXPECT_THAT(RunTask(ExpectResumption(TlsVersion::kTls13, true, false, false)), IsOk());
}

// The way an HTTP client ends a connection: a request, a response, then Close (no Shutdown).
// Close still ends the session cleanly, so it stays resumable.
TEST_F(TlsStreamTest, ResumesAfterAPlainClose) {
  auto main = []() -> Task<absl::Status> {
    auto server_ctx = ServerContext(Certs().server());
    auto client_ctx = ClientContext();
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    for (int i = 0; i < 3; ++i) {
      Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "localhost");
      CORIO_CO_RETURN_IF_ERROR(h.client.status());
      CORIO_CO_RETURN_IF_ERROR(h.server.status());
      EXPECT_EQ((*h.client)->session_reused(), i > 0) << "connection " << i;
      std::vector<char> buf(4);
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.client)->WriteAll("ping"));
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->ReadExactly(absl::MakeSpan(buf)));
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->WriteAll("pong"));
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.client)->ReadExactly(absl::MakeSpan(buf)));
      (*h.client)->Close();
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A session is for the host it was made with: another name gets a full handshake.
TEST_F(TlsStreamTest, SessionsAreKeptPerHost) {
  auto main = []() -> Task<absl::Status> {
    auto server_ctx = ServerContext(Certs().server());
    auto client_ctx = ClientContext();
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    for (std::string host : {"localhost", "127.0.0.1", "localhost"}) {
      Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, host);
      CORIO_CO_RETURN_IF_ERROR(h.client.status());
      CORIO_CO_RETURN_IF_ERROR(h.server.status());
      const std::string ping = "ping";
      CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(RoundTrip(h.client->get(), &ping, 64),
                                                              Echo(h.server->get(), 64)));
      (void)results;
    }
    EXPECT_GT(client_ctx->cached_sessions(), 0u);
    Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "127.0.0.1");
    CORIO_CO_RETURN_IF_ERROR(h.client.status());
    EXPECT_TRUE((*h.client)->session_reused());
    client_ctx->ClearSessionCache();
    EXPECT_EQ(client_ctx->cached_sessions(), 0u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// --- one context, many loops -------------------------------------------------------------

// A client context and a server context shared by connections on two threads, each running
// its own loop, with resumption on: the session cache is shared too (run under TSan).
TEST(TlsStreamThreadsTest, ContextsSharedAcrossLoops) {
  auto client_ctx = ClientContext();
  auto server_ctx = ServerContext(Certs().server());
  auto work = [](std::shared_ptr<TlsContext> client_ctx,
                 std::shared_ptr<TlsContext> server_ctx) -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    for (int i = 0; i < 20; ++i) {
      Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "localhost");
      CORIO_CO_RETURN_IF_ERROR(h.client.status());
      CORIO_CO_RETURN_IF_ERROR(h.server.status());
      const std::string ping = "ping";
      CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(RoundTrip(h.client->get(), &ping, 64),
                                                              Echo(h.server->get(), 64)));
      EXPECT_EQ(std::get<0>(results), ping);
    }
    co_return absl::OkStatus();
  };
  absl::Status results[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] { results[t] = RunTask(work(client_ctx, server_ctx)); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(results[0], IsOk());
  EXPECT_THAT(results[1], IsOk());
  EXPECT_GT(client_ctx->cached_sessions(), 0u);
}

// The system store is parsed once and shared: verifications on two threads at once, each
// with its own context over it (run under TSan).
TEST(TlsStreamThreadsTest, SystemStoreSharedAcrossThreads) {
  auto server_ctx = ServerContext(Certs().server());
  auto work = [](std::shared_ptr<TlsContext> server_ctx) -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> client_ctx, TlsContext::CreateClient());
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    for (int i = 0; i < 5; ++i) {
      Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "localhost");
      if (!absl::IsUnauthenticated(h.client.status())) {
        co_return absl::InternalError(h.client.status().ToString());
      }
    }
    co_return absl::OkStatus();
  };
  absl::Status results[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] { results[t] = RunTask(work(server_ctx)); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(results[0], IsOk());
  EXPECT_THAT(results[1], IsOk());
}

// --- no leaks ------------------------------------------------------------------------------

size_t HeapInUse() { return mallinfo2().uordblks; }

// A pool keeps idle connections by the hundred: each gives back its record buffers (OpenSSL's
// and the stream's), so a pair of idle ends holds well under what four 16 KiB records take
// (about 50 KiB measured; 166 KiB when the buffers stayed). mallinfo2 sees nothing under
// sanitizers, where this checks nothing.
TEST_F(TlsStreamTest, IdleConnectionsGiveTheirBuffersBack) {
  auto main = []() -> Task<absl::Status> {
    constexpr int kPairs = 100;
    auto client_ctx = ClientContext();
    auto server_ctx = ServerContext(Certs().server());
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    std::vector<std::unique_ptr<TlsStream>> streams;
    const std::string request(2000, 'q');
    const std::string response(100000, 'r');
    const size_t before = HeapInUse();
    for (int i = 0; i < kPairs; ++i) {
      Handshakes h = co_await HandshakeVia(&listener, client_ctx, server_ctx, "localhost");
      CORIO_CO_RETURN_IF_ERROR(h.client.status());
      CORIO_CO_RETURN_IF_ERROR(h.server.status());
      // A request and a response, as a pooled HTTP connection has seen.
      std::string got(request.size(), '\0');
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.client)->WriteAll(request));
      CORIO_CO_RETURN_IF_ERROR(co_await (*h.server)->ReadExactly(absl::MakeSpan(got)));
      got.assign(response.size(), '\0');
      CORIO_CO_ASSIGN_OR_RETURN(auto results,
                                co_await Gather((*h.server)->WriteAll(response),
                                                (*h.client)->ReadExactly(absl::MakeSpan(got))));
      (void)results;
      streams.push_back(*std::move(h.client));
      streams.push_back(*std::move(h.server));
    }
    const size_t after = HeapInUse();
    const size_t per_pair = after > before ? (after - before) / kPairs : 0;
    EXPECT_LT(per_pair, size_t{96 * 1024});
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamTest, AThousandFailedHandshakesLeakNothing) {
  auto main = []() -> Task<absl::Status> {
    auto client_ctx = ClientContext();
    auto server_ctx = ServerContext(Certs().wrong_name());
    CORIO_CO_ASSIGN_OR_RETURN(TcpListener listener, TcpListener::Bind(SocketAddress::Loopback4(0)));
    auto fail_many = [](TcpListener* listener, std::shared_ptr<TlsContext> client_ctx,
                        std::shared_ptr<TlsContext> server_ctx, int n) -> Task<absl::Status> {
      for (int i = 0; i < n; ++i) {
        Handshakes h = co_await HandshakeVia(listener, client_ctx, server_ctx, "localhost");
        if (!absl::IsUnauthenticated(h.client.status())) {
          co_return absl::InternalError(
              absl::StrCat("handshake ", i, ": ", h.client.status().ToString()));
        }
      }
      co_return absl::OkStatus();
    };
    CORIO_CO_RETURN_IF_ERROR(co_await fail_many(&listener, client_ctx, server_ctx, 100));
    const int fds = corio::testing::OpenFdCount();
    const size_t heap = HeapInUse();
    CORIO_CO_RETURN_IF_ERROR(co_await fail_many(&listener, client_ctx, server_ctx, 1000));
    EXPECT_EQ(corio::testing::OpenFdCount(), fds);
    // A leak of even 1 KiB per handshake would show as a megabyte.
    const size_t after = HeapInUse();
    EXPECT_LT(after > heap ? after - heap : 0, size_t{512 * 1024});
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::tls
