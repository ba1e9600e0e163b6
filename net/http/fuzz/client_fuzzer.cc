// Fuzzes the whole client: a real corio::http::Client sends a request over loopback TCP to a
// server that answers with the fuzz input's bytes (then closes), and reads the body to the end.
// Whatever the bytes — malformed heads, bad framing, redirects to itself, corrupt gzip — the
// request must end in a status (no crash, no hang: the total timeout runs on virtual time) and
// leave no connection in use. The first byte picks the options: method (GET/HEAD/POST),
// decompression, redirects, body mode, and a per-piece write split of the reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "net/http/client.h"
#include "net/http/testing/script_server.h"
#include "testing/run_task.h"

namespace {

using ::corio::http::testing::RawRequest;
using ::corio::http::testing::Reply;
using ::corio::http::testing::ScriptServer;

corio::Task<absl::Status> OneRequest(std::string reply, uint8_t flags) {
  auto server = ScriptServer::Start([reply](const RawRequest&) {
                  return Reply::Bytes(reply, Reply::After::kClose);
                }).value();
  corio::http::ClientOptions options;
  options.decompress = (flags & 1) != 0;
  options.follow_redirects = (flags & 2) != 0;
  options.max_redirects = 3;
  options.max_body_bytes = 1 << 20;
  options.read_timeout = absl::Seconds(5);
  options.retry.max_retries = (flags & 64) ? 1 : 0;
  corio::http::Client client(options);
  corio::http::Request req;
  req.url = server->Url("/fuzz");
  req.method = (flags & 4) ? "HEAD" : (flags & 8) ? "POST" : "GET";
  if (flags & 8) req.body = "payload";
  req.timeout = absl::Seconds(30);
  req.body_mode = (flags & 16) ? corio::http::BodyMode::kBuffer : corio::http::BodyMode::kStream;
  {
    absl::StatusOr<corio::http::Response> r = co_await client.Send(std::move(req));
    if (r.ok()) {
      if (flags & 32) {
        char buf[7];
        for (;;) {
          absl::StatusOr<size_t> n = co_await r->Read(absl::MakeSpan(buf));
          if (!n.ok() || *n == 0) break;
        }
      } else {
        absl::StatusOr<std::string> t = co_await r->Text();
        (void)t;
      }
      (void)r->RaiseForStatus();
    }
  }
  // Whatever happened, once the Response is gone nothing is in use, and at most the one
  // connection is pooled.
  const corio::http::ClientStats st = client.stats();
  if (st.active_connections != 0 || st.idle_connections > 1) std::abort();
  co_return absl::OkStatus();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string reply(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::Status s = corio::testing::RunTask(OneRequest(std::move(reply), data[0]));
  if (!s.ok()) std::abort();
  return 0;
}
