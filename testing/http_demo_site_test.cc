#include "testing/http_demo_site.h"

#include <zlib.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fd_leak_check.h"
#include "testing/http_server.h"
#include "testing/raw_http_client.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::testing {
namespace {

using ::testing::HasSubstr;

// The size of a gzip or zlib stream inflated (-1 if it is not one).
int64_t InflatedSize(const std::string& data, int window_bits) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, window_bits) != Z_OK) return -1;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[65536];
  int64_t total = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    total += static_cast<int64_t>(sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR) break;
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? total : -1;
}

class DemoSiteTest : public FdLeakCheck {};

TEST_F(DemoSiteTest, EveryUrlAnswersAsDocumented) {
  auto main = []() -> Task<absl::Status> {
    CORIO_CO_ASSIGN_OR_RETURN(auto server, FakeHttpServer::Start());
    const std::vector<std::string> urls = InstallDemoSite(*server);
    EXPECT_EQ(urls.size(), static_cast<size_t>(kDemoSiteUrls));
    EXPECT_EQ(std::set<std::string>(urls.begin(), urls.end()).size(), urls.size());
    // Slow pages are spread out, not bunched at one end.
    int slow_in_first_half = 0;
    for (size_t i = 0; i < urls.size() / 2; ++i)
      slow_in_first_half += absl::StrContains(urls[i], "/slow/");
    EXPECT_EQ(slow_in_first_half, 10);

    const std::string base = server->url("");
    CORIO_CO_ASSIGN_OR_RETURN(RawHttpConn c, co_await RawHttpConn::Open(server->address()));
    int ok = 0, not_found = 0, redirects = 0;
    int64_t bytes = 0;
    const absl::Time start = EventLoop::Current()->Now();
    for (const std::string& url : urls) {
      EXPECT_TRUE(absl::StartsWith(url, base)) << url;
      std::string path = url.substr(base.size() - 1);
      for (int hop = 0; hop < 5; ++hop) {
        CORIO_CO_RETURN_IF_ERROR(co_await c.Get(path));
        absl::StatusOr<RawHttpReply> r = co_await c.ReadReply();
        if (!r.ok()) co_return r.status();
        if (r->status >= 300 && r->status < 400) {
          ++redirects;
          path = r->Header("Location");
          if (absl::StartsWith(path, base)) path = path.substr(base.size() - 1);
          continue;
        }
        if (r->status == 404) {
          ++not_found;
          EXPECT_EQ(path, "/missing");
          break;
        }
        EXPECT_EQ(r->status, 200) << path;
        ++ok;
        bytes += static_cast<int64_t>(r->body.size());
        if (absl::StartsWith(path, "/page/")) {
          EXPECT_THAT(r->body, HasSubstr("<title>corio demo page"));
          EXPECT_TRUE(r->body.size() == 1024 || r->body.size() == 4096 || r->body.size() == 16384 ||
                      r->body.size() == 65536)
              << path << " " << r->body.size();
          EXPECT_TRUE(absl::EndsWith(r->body, "</html>"));
        } else if (absl::StartsWith(path, "/gzip/")) {
          EXPECT_EQ(r->Header("Content-Encoding"), "gzip");
          EXPECT_GT(InflatedSize(r->body, 31), 10000);
        } else if (path == "/deflate") {
          EXPECT_EQ(r->Header("Content-Encoding"), "deflate");
          EXPECT_GT(InflatedSize(r->body, 15), 10000);
        } else if (path == "/chunked") {
          EXPECT_EQ(r->Header("Transfer-Encoding"), "chunked");
          EXPECT_EQ(r->body.size(), 16384u);
        } else if (path == "/large") {
          EXPECT_EQ(r->body.size(), 8u << 20);
        } else {
          EXPECT_TRUE(absl::StartsWith(path, "/slow/")) << path;
        }
        break;
      }
    }
    EXPECT_EQ(ok, kDemoSiteUrls - 1);
    EXPECT_EQ(not_found, 1);
    EXPECT_EQ(redirects, 3);
    EXPECT_GT(bytes, 8 << 20);
    // The slow pages took their time (virtual here): 4 of each of 0.2 s ... 1 s.
    EXPECT_GE(EventLoop::Current()->Now() - start, absl::Seconds(12));

    CORIO_CO_RETURN_IF_ERROR(co_await c.Get("/"));
    absl::StatusOr<RawHttpReply> index = co_await c.ReadReply();
    if (!index.ok()) co_return index.status();
    EXPECT_THAT(index->body, HasSubstr("<a href=\"/redirect/1\">"));
    co_return absl::OkStatus();
  };
  EXPECT_THAT(RunTask(main()), IsOk());
}

}  // namespace
}  // namespace corio::testing
