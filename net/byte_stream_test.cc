// ByteStream's default implementations (ReadBefore, WriteAllv, Write, IsIdleUsable, PeerName,
// ReadExactly), seen through a stream that implements only the four required operations.
#include "net/byte_stream.h"

#include <memory>
#include <string>
#include <utility>

#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/memory_stream.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio {
namespace {

using ::corio::testing::IsOk;
using ::corio::testing::IsOkAndHolds;
using ::corio::testing::MemoryStream;
using ::corio::testing::MemoryStreamPair;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

// Only what a ByteStream must implement; everything else is the base class's default.
class Minimal final : public ByteStream {
 public:
  explicit Minimal(std::unique_ptr<MemoryStream> inner) : inner_(std::move(inner)) {}
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) override { return inner_->Read(buf); }
  Task<absl::Status> WriteAll(absl::string_view data) override {
    ++write_alls_;
    return inner_->WriteAll(data);
  }
  Task<absl::Status> Shutdown() override { return inner_->Shutdown(); }
  void Close() override { inner_->Close(); }
  int write_alls() const { return write_alls_; }

 private:
  std::unique_ptr<MemoryStream> inner_;
  int write_alls_ = 0;
};

TEST(ByteStreamTest, DefaultReadBeforeTimesOutAndKeepsDataThatArrivesInTime) {
  auto main = []() -> Task<absl::Status> {
    auto [a, b] = MemoryStreamPair();
    Minimal s(std::move(a));
    char buf[8];
    const absl::Time start = EventLoop::Current()->Now();
    absl::StatusOr<size_t> late =
        co_await s.ReadBefore(absl::MakeSpan(buf), start + absl::Seconds(3));
    EXPECT_THAT(late,
                StatusIs(absl::StatusCode::kDeadlineExceeded, "read from peer: deadline exceeded"));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
    CORIO_CO_RETURN_IF_ERROR(co_await b->WriteAll("abc"));
    absl::StatusOr<size_t> n =
        co_await s.ReadBefore(absl::MakeSpan(buf), EventLoop::Current()->Now() + absl::Seconds(3));
    EXPECT_THAT(n, IsOkAndHolds(3u));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ByteStreamTest, DefaultWriteAllvBeforeWritesInTimeAndTimesOutOnAFullPeer) {
  auto main = []() -> Task<absl::Status> {
    MemoryStream::Options reader = {.name = "memory-server"};
    reader.capacity = 8;  // what the peer holds unread before writes to it wait
    auto [a, b] = MemoryStreamPair({.name = "memory-client"}, reader);
    Minimal s(std::move(a));
    absl::string_view pieces[] = {"abc", "defgh"};
    const absl::Time start = EventLoop::Current()->Now();
    CORIO_CO_RETURN_IF_ERROR(co_await s.WriteAllvBefore(pieces, start + absl::Seconds(3)));
    absl::string_view more[] = {"ijk"};  // the peer holds 8 unread bytes: this waits
    absl::Status late = co_await s.WriteAllvBefore(more, start + absl::Seconds(3));
    EXPECT_THAT(late,
                StatusIs(absl::StatusCode::kDeadlineExceeded, "write to peer: deadline exceeded"));
    EXPECT_EQ(EventLoop::Current()->Now() - start, absl::Seconds(3));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ByteStreamTest, DefaultWriteAllvWriteAndReadExactly) {
  auto main = []() -> Task<absl::Status> {
    auto [a, b] = MemoryStreamPair();
    Minimal s(std::move(a));
    absl::string_view pieces[] = {"GET ", "", "/ HTTP/1.1\r\n", "\r\n"};
    CORIO_CO_RETURN_IF_ERROR(co_await s.WriteAllv(pieces));
    EXPECT_EQ(s.write_alls(), 4);
    absl::StatusOr<size_t> n = co_await s.Write("xyz");
    EXPECT_THAT(n, IsOkAndHolds(3u));
    char buf[21];
    Minimal peer(std::move(b));
    CORIO_CO_RETURN_IF_ERROR(co_await peer.ReadExactly(absl::MakeSpan(buf)));
    EXPECT_EQ(std::string(buf, 21), "GET / HTTP/1.1\r\n\r\nxyz");
    s.Close();
    absl::Status cut = co_await peer.ReadExactly(absl::MakeSpan(buf, 1));
    EXPECT_THAT(cut, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 0 of 1 bytes")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ByteStreamTest, DefaultWriteAllvSaysWhereItFailed) {
  auto main = []() -> Task<absl::Status> {
    auto [a, b] = MemoryStreamPair();
    Minimal s(std::move(a));
    b->Close();
    absl::string_view pieces[] = {"abc", "de"};
    absl::Status st = co_await s.WriteAllv(pieces);
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kFailedPrecondition,
                             HasSubstr("(after 0 of 5 bytes of the vector)")));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

TEST(ByteStreamTest, DefaultIdleCheckAndPeerName) {
  auto [a, b] = MemoryStreamPair();
  Minimal s(std::move(a));
  EXPECT_TRUE(s.IsIdleUsable());
  EXPECT_EQ(s.PeerName(), "peer");
}

}  // namespace
}  // namespace corio
