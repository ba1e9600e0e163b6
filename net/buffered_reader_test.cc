// BufferedReader over an in-memory stream (short reads, EOF, errors, cancellation): delimiters
// split across reads, limits, peeking, exact and bounded reads, deadlines, and no byte lost.
#include "net/buffered_reader.h"

#include <string>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/sleep.h"
#include "tasks/spawn.h"
#include "testing/memory_stream.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::MemoryStreamPair;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

TEST(BufferedReaderTest, LinesSplitAcrossOneByteReads) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    client->set_max_read(1);
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"));
    server->Close();
    BufferedReader in(*client, 4);
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view l1, co_await in.ReadUntil("\r\n", 100));
    EXPECT_EQ(l1, "HTTP/1.1 200 OK\r\n");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view l2, co_await in.ReadUntil("\r\n", 100));
    EXPECT_EQ(l2, "A: b\r\n");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view l3, co_await in.ReadUntil("\r\n", 100));
    EXPECT_EQ(l3, "\r\n");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view peek, co_await in.Peek(2));
    EXPECT_EQ(peek, "bo");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view body, co_await in.ReadExactly(4));
    EXPECT_EQ(body, "body");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view end, co_await in.ReadUntil("\r\n", 100));
    EXPECT_TRUE(end.empty());  // clean EOF
    EXPECT_TRUE(in.eof());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(BufferedReaderTest, LimitsAndEofInTheMiddleConsumeNothing) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair({.name = "c"}, {.name = "srv"});
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("0123456789abc"));
    BufferedReader in(*client);
    absl::StatusOr<absl::string_view> r = co_await in.ReadUntil("\n", 10);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted,
                            HasSubstr("no \"\\n\" within 10 bytes from srv")));
    EXPECT_EQ(in.buffered(), "0123456789abc");
    // The delimiter just inside the limit is found.
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("\nrest"));
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view line, co_await in.ReadUntil("\n", 14));
    EXPECT_EQ(line, "0123456789abc\n");
    server->Close();
    absl::StatusOr<absl::string_view> cut = co_await in.ReadUntil("\n", 100);
    EXPECT_THAT(cut, StatusIs(absl::StatusCode::kUnavailable,
                              HasSubstr("connection to srv closed after 4 bytes")));
    absl::StatusOr<absl::string_view> exact = co_await in.ReadExactly(8);
    EXPECT_THAT(exact, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 4 of 8 bytes")));
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view some, co_await in.ReadAtMost(3));
    EXPECT_EQ(some, "res");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view last, co_await in.ReadAtMost(3));
    EXPECT_EQ(last, "t");
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view none, co_await in.ReadAtMost(3));
    EXPECT_TRUE(none.empty());
    absl::StatusOr<absl::string_view> bad = co_await in.ReadUntil("", 3);
    EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(BufferedReaderTest, AMultiByteDelimiterSplitAcrossReads) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    BufferedReader in(*client);
    JoinHandle<absl::StatusOr<absl::string_view>> r = Spawn(in.ReadUntil("\r\n\r\n", 1000));
    for (const char* part : {"head\r", "\n", "\r", "\nnext"}) {
      (void)co_await Yield();
      CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll(part));
    }
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view head, co_await std::move(r));
    EXPECT_EQ(head, "head\r\n\r\n");
    EXPECT_EQ(in.Release(), "next");
    EXPECT_TRUE(in.buffered().empty());
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(BufferedReaderTest, CancelledOrTimedOutOperationsLoseNoBytes) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    BufferedReader in(*client);
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("partial"));
    JoinHandle<absl::StatusOr<absl::string_view>> r = Spawn(in.ReadUntil("\n", 100));
    (void)co_await Sleep(absl::Seconds(1));
    r.Cancel();
    absl::StatusOr<absl::string_view> cancelled = co_await std::move(r);
    EXPECT_THAT(cancelled, StatusIs(absl::StatusCode::kCancelled));
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<absl::string_view> late = co_await in.ReadExactly(20, start + absl::Seconds(5));
    EXPECT_THAT(late, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(5));
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll(" line\n"));
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view line, co_await in.ReadUntil("\n", 100));
    EXPECT_EQ(line, "partial line\n");
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(BufferedReaderTest, ReadServesTheBufferFirstThenTheStream) {
  auto main = []() -> Task<absl::Status> {
    auto [client, server] = MemoryStreamPair();
    BufferedReader in(*client);
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("ab"));
    CORIO_CO_ASSIGN_OR_RETURN(absl::string_view p, co_await in.Peek(1));
    EXPECT_EQ(p, "a");
    char buf[8];
    absl::StatusOr<size_t> n = co_await in.Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(2u));
    CORIO_CO_RETURN_IF_ERROR(co_await server->WriteAll("cde"));
    n = co_await in.Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(3u));
    EXPECT_EQ(std::string(buf, 3), "cde");
    server->FailNextWrite(absl::OkStatus());
    client->FailNextRead(absl::DataLossError("bad record"));
    absl::StatusOr<absl::string_view> err = co_await in.Peek(1);
    EXPECT_THAT(err, StatusIs(absl::StatusCode::kDataLoss));
    server->Close();
    n = co_await in.Read(absl::MakeSpan(buf));
    EXPECT_THAT(n, IsOkAndHolds(0u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio
