#include "net/http/client.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http/testing/script_server.h"
#include "tasks/gather.h"
#include "tasks/spawn.h"
#include "tasks/with_timeout.h"
#include "testing/fd_leak_check.h"
#include "testing/run_task.h"
#include "testing/status_matchers.h"

namespace corio::http {
namespace {

using ::corio::http::testing::RawRequest;
using ::corio::http::testing::Reply;
using ::corio::http::testing::ScriptServer;
using ::corio::testing::RunTask;
using ::corio::testing::StatusIs;
using ::testing::HasSubstr;

class ClientTest : public corio::testing::FdLeakCheck {};

Task<void> GetBodyAndHeaders() {
  auto server =
      ScriptServer::Start([](const RawRequest &) {
        return Reply::Ok("hello", 200, "X-A: 1\r\nx-a: 2\r\nContent-Type: text/plain\r\n");
      }).value();
  Client client;
  absl::StatusOr<Response> r = co_await client.Get(server->Url("/path?q=1"));
  CORIO_EXPECT_OK(r.status());
  if (!r.ok()) co_return;
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->reason(), "OK");
  EXPECT_EQ(r->headers().Get("content-type"), "text/plain");
  EXPECT_THAT(r->headers().GetAll("X-A"), ::testing::ElementsAre("1", "2"));
  EXPECT_EQ(r->url_string(), server->Url("/path?q=1"));
  absl::StatusOr<std::string> text = co_await r->Text();
  CORIO_EXPECT_OK(text.status());
  EXPECT_EQ(text.value_or(""), "hello");
  EXPECT_TRUE(r->body_done());
  EXPECT_EQ(server->log().size(), 1u);
  if (server->log().size() != 1) co_return;
  const RawRequest &req = server->log()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/path?q=1");
  EXPECT_EQ(req.Header("host"), absl::StrCat("127.0.0.1:", server->port()));
  EXPECT_EQ(req.Header("user-agent"), absl::StrCat("corio/", kCorioVersion));
  EXPECT_EQ(req.Header("accept-encoding"), "gzip, deflate");
}

TEST_F(ClientTest, GetReturnsStatusHeadersAndBody) {
  CORIO_EXPECT_OK(RunTask(GetBodyAndHeaders()));
}

Task<void> KeepAliveReuse() {
  auto server =
      ScriptServer::Start([](const RawRequest &req) { return Reply::Ok(req.target); }).value();
  Client client;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = co_await client.Get(server->Url(absl::StrCat("/", i)));
    CORIO_EXPECT_OK(r.status());
    if (!r.ok()) co_return;
    absl::StatusOr<std::string> t = co_await r->Text();
    EXPECT_EQ(t.value_or(""), absl::StrCat("/", i));
  }
  EXPECT_EQ(server->connections(), 1);
  ClientStats st = client.stats();
  EXPECT_EQ(st.connections_opened, 1u);
  EXPECT_EQ(st.connections_reused, 4u);
  EXPECT_EQ(st.requests, 5u);
  EXPECT_EQ(st.idle_connections, 1);
  EXPECT_EQ(st.active_connections, 0);
}

TEST_F(ClientTest, KeepAliveConnectionIsReused) { CORIO_EXPECT_OK(RunTask(KeepAliveReuse())); }

}  // namespace
}  // namespace corio::http
