// TlsStream's ByteStream operations over in-memory transports (//testing:memory_stream), where
// the test decides every byte's fate: one-byte transport reads, ReadBefore across a record
// split by a deadline, WriteAllv coalescing, partial writes, IsIdleUsable, PeerName, write
// errors that say how far they got, cancelled writes, and destroying a stream mid-read.
#include <openssl/err.h>

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loop/event_loop.h"
#include "net/tls/tls_context.h"
#include "net/tls/tls_stream.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/memory_stream.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"
#include "testing/tls_certs.h"

namespace corio::tls {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::MemoryStream;
using ::corio::testing::MemoryStreamPair;
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

std::shared_ptr<TlsContext> ServerContext(TlsVersion max_version) {
  ServerOptions options;
  options.cert_pem = Certs().server().cert_pem;
  options.key_pem = Certs().server().key_pem;
  options.max_version = max_version;
  return TlsContext::CreateServer(options).value();
}

std::shared_ptr<TlsContext> ClientContext() {
  ClientOptions options;
  options.ca_pem = Certs().ca_pem();
  return TlsContext::CreateClient(options).value();
}

struct Pair {
  std::unique_ptr<TlsStream> client;
  std::unique_ptr<TlsStream> server;
  MemoryStream* client_transport = nullptr;  // owned by `client`
  MemoryStream* server_transport = nullptr;  // owned by `server`
};

// A handshake over a MemoryStreamPair; `capacity` bounds what each end holds unread.
Task<absl::StatusOr<Pair>> Connected(size_t max_read, size_t capacity,
                                     TlsVersion version = TlsVersion::kTls13) {
  MemoryStream::Options client_options;
  client_options.name = "memory-client";
  client_options.max_read = max_read;
  client_options.capacity = capacity;
  MemoryStream::Options server_options = client_options;
  server_options.name = "memory-server";
  auto [client_transport, server_transport] = MemoryStreamPair(client_options, server_options);
  Pair pair;
  pair.client_transport = client_transport.get();
  pair.server_transport = server_transport.get();
  std::vector<Task<StreamOr>> tasks;
  tasks.push_back(TlsStream::Connect(ClientContext(), std::move(client_transport), "localhost"));
  tasks.push_back(TlsStream::Accept(ServerContext(version), std::move(server_transport)));
  CORIO_CO_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<TlsStream>> streams,
                            co_await Gather(std::move(tasks)));
  pair.client = std::move(streams[0]);
  pair.server = std::move(streams[1]);
  co_return pair;
}

Task<absl::StatusOr<std::string>> ReadN(ByteStream* s, size_t n) {
  std::string got(n, '\0');
  CORIO_CO_RETURN_IF_ERROR(co_await s->ReadExactly(absl::MakeSpan(got)));
  co_return got;
}

class TlsStreamIoTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(ERR_peek_error(), 0u); }
};

TEST_F(TlsStreamIoTest, HandshakeAndDataOneByteAtATime) {
  auto main = []() -> Task<absl::Status> {
    for (TlsVersion version : {TlsVersion::kTls12, TlsVersion::kTls13}) {
      CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(/*max_read=*/1, 1 << 20, version));
      EXPECT_EQ(p.client->PeerName(), "memory-server");
      EXPECT_EQ(p.server->PeerName(), "memory-client");
      EXPECT_EQ(p.client->peer_description(), "localhost (memory-server)");
      const std::string message(40000, 'm');  // three records
      CORIO_CO_ASSIGN_OR_RETURN(
          auto results, co_await Gather(p.client->WriteAll(message), ReadN(p.server.get(), 40000)));
      EXPECT_TRUE(std::get<1>(results) == message);
    }
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Small pieces go out as one record: the ciphertext is the plaintext plus one record's
// overhead (TLS 1.3 with an AEAD: 5 bytes of header, 1 of content type, 16 of tag).
TEST_F(TlsStreamIoTest, WriteAllvCoalescesSmallPiecesIntoOneRecord) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    // Let the client take in the server's session tickets first.
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->WriteAll("hi"));
    CORIO_CO_ASSIGN_OR_RETURN(std::string hi, co_await ReadN(p.client.get(), 2));
    const size_t before = p.client_transport->bytes_written();
    const absl::string_view pieces[] = {"GET / HTTP/1.1\r\n", "Host: localhost\r\n", "\r\n"};
    CORIO_CO_RETURN_IF_ERROR(co_await p.client->WriteAllv(pieces));
    const std::string expected = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    EXPECT_EQ(p.client_transport->bytes_written() - before, expected.size() + 22);
    CORIO_CO_ASSIGN_OR_RETURN(std::string got, co_await ReadN(p.server.get(), expected.size()));
    EXPECT_EQ(got, expected);

    // Large and small pieces mixed, in order.
    std::string big(300000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
    const absl::string_view mixed[] = {"head", big, "", "x", big, "tail"};
    std::string all;
    for (absl::string_view m : mixed) all.append(m.data(), m.size());
    CORIO_CO_ASSIGN_OR_RETURN(auto results, co_await Gather(p.client->WriteAllv(mixed),
                                                            ReadN(p.server.get(), all.size())));
    EXPECT_TRUE(std::get<1>(results) == all);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamIoTest, WriteSendsSome) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    const std::string data(200000, 'w');
    CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await p.client->Write(data));
    EXPECT_GT(n, 0u);
    EXPECT_LE(n, data.size());
    CORIO_CO_ASSIGN_OR_RETURN(std::string got, co_await ReadN(p.server.get(), n));
    EXPECT_EQ(got, data.substr(0, n));
    CORIO_CO_ASSIGN_OR_RETURN(size_t none, co_await p.client->Write(""));
    EXPECT_EQ(none, 0u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Copies whatever `from` reads to `to` until cancelled (a man in the middle the test steers).
Task<absl::Status> Pump(ByteStream* from, ByteStream* to) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await from->Read(absl::MakeSpan(buf)));
    if (n == 0) co_return absl::OkStatus();
    CORIO_CO_RETURN_IF_ERROR(co_await to->WriteAll(absl::string_view(buf.data(), n)));
  }
}

// A deadline that passes with half a record received: DEADLINE_EXCEEDED, the half is kept,
// and the next read completes the record.
TEST_F(TlsStreamIoTest, ReadBeforeKeepsHalfARecordAcrossTheDeadline) {
  auto main = []() -> Task<absl::Status> {
    auto [client_transport, client_wire] = MemoryStreamPair();
    auto [server_wire, server_transport] = MemoryStreamPair();
    JoinHandle<absl::Status> up = Spawn(Pump(client_wire.get(), server_wire.get()));
    JoinHandle<absl::Status> down = Spawn(Pump(server_wire.get(), client_wire.get()));
    std::vector<Task<StreamOr>> tasks;
    tasks.push_back(TlsStream::Connect(ClientContext(), std::move(client_transport), "localhost"));
    tasks.push_back(
        TlsStream::Accept(ServerContext(TlsVersion::kTls13), std::move(server_transport)));
    CORIO_CO_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<TlsStream>> streams,
                              co_await Gather(std::move(tasks)));
    TlsStream& client = *streams[0];
    TlsStream& server = *streams[1];
    CORIO_CO_RETURN_IF_ERROR(co_await server.WriteAll("tickets first"));
    CORIO_CO_ASSIGN_OR_RETURN(std::string first, co_await ReadN(&client, 13));
    down.Cancel();
    (void)co_await std::move(down);

    // Nothing at all by the deadline.
    std::vector<char> buf(100);
    EventLoop* loop = EventLoop::Current();
    absl::StatusOr<size_t> none =
        co_await client.ReadBefore(absl::MakeSpan(buf), loop->Now() + absl::Seconds(1));
    EXPECT_THAT(none, StatusIs(absl::StatusCode::kDeadlineExceeded));

    // Half a record by the deadline.
    CORIO_CO_RETURN_IF_ERROR(co_await server.WriteAll("hello, world"));
    std::vector<char> record(1000);
    CORIO_CO_ASSIGN_OR_RETURN(size_t len, co_await server_wire->Read(absl::MakeSpan(record)));
    const absl::string_view whole(record.data(), len);
    CORIO_CO_RETURN_IF_ERROR(co_await client_wire->WriteAll(whole.substr(0, len / 2)));
    absl::StatusOr<size_t> half =
        co_await client.ReadBefore(absl::MakeSpan(buf), loop->Now() + absl::Seconds(1));
    EXPECT_THAT(half, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_FALSE(client.IsIdleUsable());  // half a record is waiting
    CORIO_CO_RETURN_IF_ERROR(co_await client_wire->WriteAll(whole.substr(len / 2)));
    CORIO_CO_ASSIGN_OR_RETURN(
        size_t n, co_await client.ReadBefore(absl::MakeSpan(buf), loop->Now() + absl::Seconds(1)));
    EXPECT_EQ(std::string(buf.data(), n), "hello, world");
    up.Cancel();
    (void)co_await std::move(up);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamIoTest, IsIdleUsable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    // The server's session tickets are unread bytes to the transport until the client reads.
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->WriteAll("response"));
    CORIO_CO_ASSIGN_OR_RETURN(std::string response, co_await ReadN(p.client.get(), 8));
    EXPECT_TRUE(p.client->IsIdleUsable());
    EXPECT_TRUE(p.server->IsIdleUsable());

    // Decrypted bytes nobody asked for.
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->WriteAll("ab"));
    std::vector<char> one(1);
    CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await p.client->Read(absl::MakeSpan(one)));
    EXPECT_EQ(n, 1u);
    EXPECT_FALSE(p.client->IsIdleUsable());  // "b" is buffered in the TLS layer
    CORIO_CO_ASSIGN_OR_RETURN(n, co_await p.client->Read(absl::MakeSpan(one)));
    EXPECT_TRUE(p.client->IsIdleUsable());

    // Bytes still in the transport.
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->WriteAll("unexpected"));
    EXPECT_FALSE(p.client->IsIdleUsable());
    CORIO_CO_ASSIGN_OR_RETURN(std::string drained, co_await ReadN(p.client.get(), 10));
    EXPECT_TRUE(p.client->IsIdleUsable());

    // The server ends the connection (close_notify).
    p.server->Close();
    EXPECT_FALSE(p.client->IsIdleUsable());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamIoTest, IsIdleUsableIsFalseAfterEofShutdownOrClose) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->Shutdown());
    std::vector<char> buf(64);
    CORIO_CO_ASSIGN_OR_RETURN(size_t n, co_await p.client->Read(absl::MakeSpan(buf)));
    EXPECT_EQ(n, 0u);
    EXPECT_FALSE(p.client->IsIdleUsable());  // at EOF
    EXPECT_FALSE(p.server->IsIdleUsable());  // shut down
    p.client->Close();
    EXPECT_FALSE(p.client->IsIdleUsable());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A write that fails part-way says how far it got; the stream stays failed.
TEST_F(TlsStreamIoTest, WriteErrorsSayHowFarTheyGot) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 256 * 1024));
    const std::string big(1 << 20, 'b');
    JoinHandle<absl::Status> write = Spawn(p.client->WriteAll(big));
    for (int i = 0; i < 10; ++i) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    p.server_transport->InjectReset();
    absl::Status s = co_await std::move(write);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                            AllOf(HasSubstr("reset"), HasSubstr(" of 1048576 bytes)"))));
    absl::Status again = co_await p.client->WriteAll("more");
    EXPECT_THAT(again, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_FALSE(p.client->IsIdleUsable());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// A write cancelled while its records were going out leaves the stream unwritable.
TEST_F(TlsStreamIoTest, CancelledWriteLeavesTheStreamUnwritable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 64 * 1024));
    const std::string big(1 << 20, 'c');
    JoinHandle<absl::Status> write = Spawn(p.client->WriteAll(big));
    for (int i = 0; i < 10; ++i) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    write.Cancel();
    absl::Status s = co_await std::move(write);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    absl::Status again = co_await p.client->WriteAll("more");
    EXPECT_THAT(again, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cancelled")));
    EXPECT_FALSE(p.client->IsIdleUsable());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Destroying a stream while a task waits in Read: the read resumes with CANCELLED.
TEST_F(TlsStreamIoTest, DestroyedWhileReading) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    std::vector<char> buf(64);
    JoinHandle<absl::StatusOr<size_t>> read = Spawn(p.client->Read(absl::MakeSpan(buf)));
    for (int i = 0; i < 3; ++i) CORIO_CO_RETURN_IF_ERROR(co_await Yield());
    p.client.reset();
    absl::StatusOr<size_t> r = co_await std::move(read);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST_F(TlsStreamIoTest, ResetMidStreamIsUnavailable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    p.client_transport->InjectReset();
    std::vector<char> buf(64);
    absl::StatusOr<size_t> r = co_await p.client->Read(absl::MakeSpan(buf));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection reset")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

// Bytes that are not a TLS record after the handshake: a protocol error, sticky.
TEST_F(TlsStreamIoTest, GarbageAfterTheHandshakeIsUnavailable) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(Pair p, co_await Connected(0, 1 << 20));
    CORIO_CO_RETURN_IF_ERROR(co_await p.server->transport().WriteAll("HTTP/1.1 200 OK\r\n\r\n"));
    std::vector<char> buf(64);
    absl::StatusOr<size_t> r = co_await p.client->Read(absl::MakeSpan(buf));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable,
                            HasSubstr("tls read from localhost (memory-server): ")));
    absl::StatusOr<size_t> again = co_await p.client->Read(absl::MakeSpan(buf));
    EXPECT_THAT(again, StatusIs(absl::StatusCode::kUnavailable));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::tls
