// MemoryStreamPair: data both ways, backpressure, short reads, EOF, shutdown, close, reset and
// injected failures, cancel safety, IsIdleUsable and PeerName.
#include "testing/memory_stream.h"

#include <string>
#include <vector>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

using ::testing::HasSubstr;

Task<absl::StatusOr<std::string>> ReadToEof(ByteStream* s, size_t chunk = 4096,
                                            std::vector<size_t>* sizes = nullptr) {
  std::string got;
  std::vector<char> buf(chunk);
  for (;;) {
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return got;
    if (sizes != nullptr) sizes->push_back(*n);
    got.append(buf.data(), *n);
  }
}

TEST(MemoryStreamTest, BothWaysWithBackpressureAndEofOnShutdown) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] =
        MemoryStreamPair({.name = "c", .capacity = 1000}, {.name = "s", .capacity = 100});
    std::string big(10000, 'x');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    auto writer = [](ByteStream* s, const std::string* data) -> Task<absl::Status> {
      CORIO_CO_RETURN_IF_ERROR(co_await s->WriteAll(*data));
      co_return co_await s->Shutdown();
    };
    std::vector<size_t> sizes;
    CORIO_CO_ASSIGN_OR_RETURN(
        auto r, co_await Gather(writer(client.get(), &big), ReadToEof(server.get(), 4096, &sizes)));
    EXPECT_TRUE(std::get<1>(r) == big);
    EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 100u);  // the server's capacity
    EXPECT_EQ(client->bytes_written(), big.size());
    EXPECT_EQ(server->bytes_read(), big.size());
    absl::Status after = co_await client->WriteAll("more");
    EXPECT_THAT(after, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Shutdown")));
    // The other direction still works.
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("reply"));
    char buf[16];
    absl::StatusOr<size_t> n = co_await client->Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(5u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MemoryStreamTest, ShortReadsOneByteAtATime) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    server->set_max_read(1);
    CORIO_CO_RETURN_IF_ERROR(co_await client->WriteAll("hello"));
    client->Close();
    std::vector<size_t> sizes;
    CORIO_CO_ASSIGN_OR_RETURN(std::string got, co_await ReadToEof(server.get(), 64, &sizes));
    EXPECT_EQ(got, "hello");
    EXPECT_THAT(sizes, ::testing::ElementsAre(1u, 1u, 1u, 1u, 1u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MemoryStreamTest, InjectedEofResetAndFailures) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("ab"));
    client->InjectEof();
    CORIO_CO_ASSIGN_OR_RETURN(std::string got, co_await ReadToEof(client.get()));
    EXPECT_EQ(got, "ab");  // EOF after what was buffered

    server->FailNextRead(absl::DataLossError("boom"));
    char buf[4];
    absl::StatusOr<size_t> r = co_await server->Read(absl::MakeSpan(buf));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss, "boom"));
    client->FailNextWrite(absl::PermissionDeniedError("no"));
    absl::Status w = co_await client->WriteAll("x");
    EXPECT_THAT(w, StatusIs(absl::StatusCode::kPermissionDenied));

    CORIO_CO_RETURN_IF_ERROR(co_await client->WriteAll("unread"));
    server->InjectReset();
    r = co_await server->Read(absl::MakeSpan(buf));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection reset by peer")));
    w = co_await client->WriteAll("x");
    EXPECT_THAT(w, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection reset by peer")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MemoryStreamTest, WaitingOperationsSeeResetsAndCloses) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair({}, {.capacity = 3});
    char buf[4];
    JoinHandle<absl::StatusOr<size_t>> reader = Spawn(client->Read(absl::MakeSpan(buf)));
    JoinHandle<absl::Status> writer = Spawn(client->WriteAll("toolong"));
    (void)co_await Yield();
    server->InjectReset();
    absl::StatusOr<size_t> r = co_await std::move(reader);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
    absl::Status w = co_await std::move(writer);
    EXPECT_THAT(w, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("(after 3 of 7 bytes)")));

    auto [a, b] = MemoryStreamPair();
    JoinHandle<absl::StatusOr<size_t>> pending = Spawn(a->Read(absl::MakeSpan(buf)));
    (void)co_await Yield();
    a.reset();  // destroyed while reading
    r = co_await std::move(pending);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    absl::StatusOr<size_t> eof = co_await b->Read(absl::MakeSpan(buf));
    EXPECT_THAT(eof, IsOkAndHolds(0u));
    absl::Status broken = co_await b->WriteAll("x");
    EXPECT_THAT(broken, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Broken pipe")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MemoryStreamTest, CancellationTakesNothingAndPartialWritesSayHowMuch) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair({}, {.capacity = 4});
    char buf[8];
    JoinHandle<absl::StatusOr<size_t>> reader = Spawn(client->Read(absl::MakeSpan(buf)));
    (void)co_await Sleep(absl::Seconds(1));
    reader.Cancel();
    absl::StatusOr<size_t> r = co_await std::move(reader);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("data"));
    absl::StatusOr<size_t> n = co_await client->Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(4u));

    absl::StatusOr<size_t> some = co_await client->Write("123456");
    EXPECT_THAT(some, IsOkAndHolds(4u));  // what fit
    JoinHandle<absl::Status> writer = Spawn(client->WriteAll("xy"));
    (void)co_await Sleep(absl::Seconds(1));
    writer.Cancel();
    absl::Status w = co_await std::move(writer);
    EXPECT_THAT(w, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_EQ(server->unread(), 4u);
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(MemoryStreamTest, IsIdleUsableAndPeerName) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair({.name = "client"}, {.name = "server:443"});
    EXPECT_EQ(client->PeerName(), "server:443");
    EXPECT_EQ(server->PeerName(), "client");
    EXPECT_TRUE(client->IsIdleUsable());
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("?"));
    EXPECT_FALSE(client->IsIdleUsable());  // unexpected bytes
    char c;
    CORIO_CO_RETURN_IF_ERROR(co_await client->ReadExactly(absl::MakeSpan(&c, 1)));
    EXPECT_TRUE(client->IsIdleUsable());
    server->Close();
    EXPECT_FALSE(client->IsIdleUsable());  // EOF
    EXPECT_FALSE(server->IsIdleUsable());  // closed
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::testing
