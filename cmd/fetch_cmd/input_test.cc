#include "cmd/fetch_cmd/input.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::fetch_cmd {
namespace {

using ::corio::testing::StatusIs;
using ::testing::ElementsAre;

std::vector<std::string> ReadAll(UrlInput& in) {
  std::vector<std::string> out;
  while (auto item = in.Next()) out.push_back(item->text);
  return out;
}

// A pipe whose write end is fed `data` by a thread, then closed.
std::unique_ptr<UrlInput> FromPipe(std::string data, std::thread* writer) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  *writer = std::thread([fd = fds[1], data = std::move(data)] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  });
  auto in = UrlInput::FromFd(fds[0], /*owned=*/true, "pipe");
  EXPECT_TRUE(in.ok());
  return std::move(in).value();
}

TEST(UrlInputTest, SkipsBlankAndCommentLinesAndStripsCrlf) {
  std::thread writer;
  auto in = FromPipe("http://a/\r\n\n   \n# comment\n  #indented comment\n\thttp://b/  \nhttp://c/",
                     &writer);
  EXPECT_THAT(ReadAll(*in), ElementsAre("http://a/", "http://b/", "http://c/"));
  EXPECT_TRUE(in->status().ok());
  EXPECT_EQ(in->count(), 3u);
  writer.join();
}

TEST(UrlInputTest, IndexesCountOnlyUrls) {
  auto in = UrlInput::FromList({"", "x", "# c", "y"});
  auto a = in->Next();
  auto b = in->Next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->index, 0u);
  EXPECT_EQ(b->index, 1u);
  EXPECT_EQ(b->text, "y");
  EXPECT_FALSE(in->Next().has_value());
}

TEST(UrlInputTest, OverLongLineIsTruncatedFlaggedAndTheRestSkipped) {
  std::string huge(UrlInput::kMaxLineBytes * 3, 'a');
  std::thread writer;
  auto in = FromPipe("http://first/\n" + huge + "\nhttp://after/\n", &writer);
  auto first = in->Next();
  auto big = in->Next();
  auto after = in->Next();
  ASSERT_TRUE(first && big && after);
  EXPECT_FALSE(first->too_long);
  EXPECT_TRUE(big->too_long);
  EXPECT_EQ(big->text.size(), UrlInput::kMaxLineBytes);
  EXPECT_EQ(after->text, "http://after/");
  EXPECT_FALSE(after->too_long);
  EXPECT_FALSE(in->Next().has_value());
  writer.join();
}

TEST(UrlInputTest, ManyLinesAcrossReadBoundaries) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += "http://h/" + std::to_string(i) + "\n";
  std::thread writer;
  auto in = FromPipe(data, &writer);
  uint64_t n = 0;
  while (auto item = in->Next()) {
    ASSERT_EQ(item->text, "http://h/" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 100000u);
  writer.join();
}

TEST(UrlInputTest, InterruptWakesABlockedReader) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto in = UrlInput::FromFd(fds[0], /*owned=*/true, "pipe");
  ASSERT_TRUE(in.ok());
  std::thread reader([&] { EXPECT_FALSE((*in)->Next().has_value()); });
  (*in)->Interrupt();  // whether the reader is already blocked or not, it must return
  reader.join();
  EXPECT_THAT((*in)->status(), StatusIs(absl::StatusCode::kCancelled));
  close(fds[1]);
}

TEST(UrlInputTest, NextIsReadyOnlyWhenAUrlLineIsBuffered) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto in = UrlInput::FromFd(fds[0], /*owned=*/true, "pipe");
  ASSERT_TRUE(in.ok());
  UrlInput& input = **in;
  EXPECT_FALSE(input.NextIsReady());  // nothing read yet: Next() would wait
  const std::string data = "http://a/\n  # comment\n\n   \nhttp://b/\n# trailing\nhttp://c";
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  std::optional<InputItem> a = input.Next();  // reads the whole chunk
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->text, "http://a/");
  EXPECT_TRUE(input.NextIsReady());  // http://b/, behind blank and comment lines
  std::optional<InputItem> b = input.Next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->text, "http://b/");
  EXPECT_FALSE(input.NextIsReady());  // a comment, then a line without its end yet
  close(fds[1]);  // EOF: the last line is complete
  std::optional<InputItem> c = input.Next();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->text, "http://c");
  EXPECT_TRUE(input.NextIsReady());  // at the end: Next() returns at once
  EXPECT_FALSE(input.Next().has_value());

  EXPECT_TRUE(UrlInput::FromList({"http://x/"})->NextIsReady());
}

TEST(UrlInputTest, MissingFileIsNotFoundAndNamesIt) {
  auto in = UrlInput::OpenFile("/nonexistent/urls.txt");
  EXPECT_THAT(in.status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(in.status().message()), ::testing::HasSubstr("/nonexistent/urls.txt"));
}

TEST(UrlInputTest, DirectoryIsRejected) {
  auto in = UrlInput::OpenFile("/");
  EXPECT_THAT(in.status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace corio::fetch_cmd
