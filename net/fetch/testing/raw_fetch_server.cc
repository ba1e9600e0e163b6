#include "net/fetch/testing/raw_fetch_server.h"

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "net/fetch/fetch.pb.h"
#include "net/http/url.h"

namespace corio::fetch::testing {
namespace {

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// A FetchResponse written by hand: index (field 1), status (2), reason (3, any bytes).
std::string Response(int index, absl::string_view reason) {
  std::string m;
  m += '\x08' + Varint(static_cast<uint64_t>(index));
  m += '\x10' + Varint(200);
  m += '\x1a' + Varint(reason.size());
  m.append(reason.data(), reason.size());
  return m;
}

std::string Answer(int index, const v1::FetchRequest& request) {
  absl::StatusOr<http::Url> url = http::ParseUrl(request.url());
  const std::string host = url.ok() ? url->host : "";
  if (host == "poison.test") {
    return Response(index,
                    "Gr\xfc\xdf"
                    "e");
  }
  if (host == "corrupt.test")
    return "\x1a\x7f"
           "cut short";  // 127 bytes announced
  return Response(index, "OK");
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// One call: reads the request, writes the answers one after the other, finishes OK.
class Reactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Reactor(std::string method) : method_(std::move(method)) {
    std::lock_guard<std::mutex> lock(mu_);
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
    const std::string bytes = FromBuffer(in_);
    if (method_ == "/corio.fetch.v1.FetchService/Fetch") {
      v1::FetchRequest r;
      if (r.ParseFromString(bytes)) answers_.push_back(Answer(0, r));
    } else if (method_ == "/corio.fetch.v1.FetchService/FetchMany") {
      v1::FetchManyRequest m;
      if (m.ParseFromString(bytes)) {
        for (int i = 0; i < m.requests_size(); ++i) answers_.push_back(Answer(i, m.requests(i)));
      }
    } else {
      return Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, method_));
    }
    WriteNextLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) return Finish(grpc::Status::CANCELLED);
    WriteNextLocked();
  }

  void OnDone() override { delete this; }

 private:
  void WriteNextLocked() {
    if (next_ == answers_.size()) return Finish(grpc::Status::OK);
    out_ = ToBuffer(answers_[next_++]);
    StartWrite(&out_);
  }

  const std::string method_;
  std::mutex mu_;
  grpc::ByteBuffer in_, out_;
  std::vector<std::string> answers_;
  size_t next_ = 0;
};

}  // namespace

class RawFetchServer::Service final : public grpc::CallbackGenericService {
 public:
  explicit Service(std::atomic<int>& calls) : calls_(calls) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    ++calls_;
    return new Reactor(ctx->method());
  }

 private:
  std::atomic<int>& calls_;
};

std::unique_ptr<RawFetchServer> RawFetchServer::Start() {
  std::unique_ptr<RawFetchServer> s(new RawFetchServer);
  s->service_ = std::make_unique<Service>(s->calls_);
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterCallbackGenericService(s->service_.get());
  s->server_ = b.BuildAndStart();
  if (s->server_ == nullptr || port == 0) return nullptr;
  s->address_ = absl::StrCat("127.0.0.1:", port);
  return s;
}

RawFetchServer::~RawFetchServer() {
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace corio::fetch::testing
