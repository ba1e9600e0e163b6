#include "net/fetch/client.h"

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "net/fetch/loop_poster.h"
#include "tasks/event.h"
#include "tasks/queue.h"

namespace corio::fetch {
namespace {

constexpr absl::string_view kFetchFailurePayload = "corio.fetch/fetch-failure";
constexpr char kFetchErrorTrailer[] = "corio-fetch-error";
constexpr char kFetchServerHeader[] = "corio-fetch-server";

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::string MetadataValue(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                          const char* key) {
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// A FetchResponse from the bytes the server sent. One that does not parse (protobuf refuses a
// string field that is not UTF-8, or the message is corrupt) is INTERNAL; `index` is then set
// to its field 1 when the fields could be walked (absent: 0, proto3's default), so that the
// error can be that request's alone.
absl::Status ParseResponse(grpc::ByteBuffer& buffer, v1::FetchResponse& out,
                           std::optional<int>* index) {
  if (buffer.Valid()) {
    grpc::ProtoBufferReader reader(&buffer);
    if (out.ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
    out.Clear();
    grpc::ProtoBufferReader again(&buffer);
    google::protobuf::io::CodedInputStream in(&again);
    using google::protobuf::internal::WireFormatLite;
    std::optional<int> found;
    bool walked = false;
    for (;;) {
      const uint32_t tag = in.ReadTag();
      if (tag == 0) {
        walked = in.ConsumedEntireMessage();
        break;
      }
      uint32_t value = 0;
      if (tag == WireFormatLite::MakeTag(v1::FetchResponse::kIndexFieldNumber,
                                         WireFormatLite::WIRETYPE_VARINT)) {
        if (!in.ReadVarint32(&value)) break;
        found = static_cast<int>(value);
      } else if (!WireFormatLite::SkipField(&in, tag)) {
        break;
      }
    }
    if (walked) *index = found.value_or(0);
  }
  return absl::InternalError(
      "fetch service: a response does not parse (a string field that is not UTF-8, or a "
      "corrupt message)");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("fetch client: cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

namespace client_internal {

// The calls of a client that gRPC has not finished. A call's state (its ClientContext) holds a
// reference to the channel; if the last one went on a gRPC callback thread, the channel's
// destruction would tear down the completion queue that thread is serving (a double free in
// gRPC 1.51). So the client outlives its calls: its destructor cancels them and waits.
struct Calls {
  void Add(grpc::ClientContext* c) {
    std::lock_guard<std::mutex> lock(mu);
    live.insert(c);
    ++unfinished;
  }
  // Before the call's state (and context) may be destroyed.
  void Forget(grpc::ClientContext* c) {
    std::lock_guard<std::mutex> lock(mu);
    live.erase(c);
  }
  // After: the call holds nothing any more.
  void Finished() {
    std::lock_guard<std::mutex> lock(mu);
    --unfinished;
    cv.notify_all();
  }
  void CancelAndWait() {
    std::unique_lock<std::mutex> lock(mu);
    for (grpc::ClientContext* c : live) c->TryCancel();
    cv.wait(lock, [&] { return unfinished == 0; });
  }

  std::mutex mu;
  std::condition_variable cv;
  std::set<grpc::ClientContext*> live;
  int unfinished = 0;
};

struct RawMethods {
  explicit RawMethods(const std::shared_ptr<grpc::Channel>& channel)
      : fetch("/corio.fetch.v1.FetchService/Fetch", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        fetch_many("/corio.fetch.v1.FetchService/FetchMany",
                   grpc::internal::RpcMethod::SERVER_STREAMING, channel) {}
  const grpc::internal::RpcMethod fetch;
  const grpc::internal::RpcMethod fetch_many;
};

}  // namespace client_internal

namespace {

// One Fetch call: shared by the awaiting task and gRPC's completion callback.
struct UnaryState {
  std::shared_ptr<client_internal::Calls> calls;
  LoopPoster poster;
  grpc::ClientContext context;
  v1::FetchRequest request;
  grpc::ByteBuffer response;
  // Loop side.
  Event done;
  grpc::Status status;
};

}  // namespace

namespace client_internal {

// One FetchMany call: the gRPC reactor and the loop-side inbox of what it received. Owned by
// the FetchManyCall and, until OnDone, by itself.
struct StreamState final : grpc::ClientReadReactor<grpc::ByteBuffer> {
  using Item = std::variant<v1::FetchResponse, grpc::Status>;

  void Start(grpc::Channel& channel, const RawMethods& methods, std::shared_ptr<StreamState> me) {
    std::lock_guard<std::mutex> lock(mu);
    self = std::move(me);
    grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(
        &channel, methods.fetch_many, &context, &request, this);
    StartRead(&buffer);
    StartCall();
  }

  // gRPC's threads. The lock orders each reaction after the reactor operation before it
  // (visible to ThreadSanitizer; Debian's gRPC is not instrumented).
  // The server's name, from its initial metadata (received before any message).
  void NoteServerLocked() {
    if (server_known) return;
    server_known = true;
    server_name = MetadataValue(context.GetServerInitialMetadata(), kFetchServerHeader);
  }

  void OnReadInitialMetadataDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu);
    if (ok) NoteServerLocked();
  }

  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!ok) return;  // no more messages: OnDone follows
    NoteServerLocked();
    v1::FetchResponse r;
    std::optional<int> index;
    absl::Status parsed = ParseResponse(buffer, r, &index);
    buffer.Clear();
    if (!parsed.ok() && !index.has_value()) {
      // Nothing says which request it answered: the call ends with that one unanswered.
      StartRead(&buffer);
      return;
    }
    if (!parsed.ok()) {
      // That request's answer is an error of its own; the others still come.
      r.set_index(*index);
      r.mutable_error()->set_code(static_cast<int>(parsed.code()));
      r.mutable_error()->set_message(std::string(parsed.message()));
    }
    // Each posted item carries the name: reactions (and so posts) may run in any order.
    auto post = [s = self, r = std::move(r), name = server_name]() mutable {
      if (s->server.empty()) s->server = std::move(name);
      (void)s->inbox.TryPut(Item(std::move(r)));
    };
    poster.Post(std::move(post));
    StartRead(&buffer);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<Calls> client_calls = calls;
    client_calls->Forget(&context);
    {
      std::shared_ptr<StreamState> me;
      std::lock_guard<std::mutex> lock(mu);
      me = std::move(self);
      poster.Post([s = me, status, name = server_name] {
        if (s->server.empty()) s->server = name;
        (void)s->inbox.TryPut(Item(status));
        s->inbox.Close();
      });
    }  // possibly the last reference: `this` is gone
    client_calls->Finished();
  }

  std::shared_ptr<Calls> calls;
  LoopPoster poster;
  grpc::ClientContext context;
  v1::FetchManyRequest request;

  std::mutex mu;
  std::shared_ptr<StreamState> self;  // until OnDone
  grpc::ByteBuffer buffer;            // the read in progress
  bool server_known = false;
  std::string server_name;

  // Loop side.
  Queue<Item> inbox;  // unbounded: a call's memory is bounded by its requests
  std::string server;
  std::optional<absl::Status> final_status;
};

}  // namespace client_internal

absl::StatusOr<std::unique_ptr<FetchClient>> FetchClient::Create(FetchClientOptions options) {
  if (options.target.empty()) return absl::InvalidArgumentError("fetch client: empty target");
  std::unique_ptr<FetchClient> c(new FetchClient);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls || !options.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_file.empty()) {
      absl::StatusOr<std::string> roots = ReadFile(options.tls_ca_file);
      if (!roots.ok()) return roots.status();
      ssl.pem_root_certs = *std::move(roots);
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  if (!options.load_balancing.empty()) {
    args.SetServiceConfigJSON(
        absl::StrCat(R"({"loadBalancingConfig":[{")", options.load_balancing, R"(":{}}]})"));
  }
  // No service config from DNS TXT records: the balancing policy is the client's choice.
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  c->channel_ = grpc::CreateCustomChannel(options.target, creds, args);
  if (c->channel_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("fetch client: bad target ", options.target));
  }
  c->methods_ = std::make_unique<client_internal::RawMethods>(c->channel_);
  c->options_ = std::move(options);
  c->calls_ = std::make_shared<client_internal::Calls>();
  return c;
}

FetchClient::~FetchClient() {
  if (calls_ != nullptr) calls_->CancelAndWait();
}

void FetchClient::SetUp(grpc::ClientContext& context, const CallOptions& call) const {
  if (call.timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + call.timeout));
  }
  context.set_wait_for_ready(call.wait_for_ready);
  if (!options_.bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.bearer_token));
  }
}

Task<absl::StatusOr<v1::FetchResponse>> FetchClient::Fetch(v1::FetchRequest request,
                                                          CallOptions call) {
  auto state = std::make_shared<UnaryState>();
  state->calls = calls_;
  state->poster = LoopPoster::ForCurrentLoop();
  state->request = std::move(request);
  SetUp(state->context, call);
  calls_->Add(&state->context);
  // The callback keeps the state (context, messages) alive until gRPC is done with it, even
  // when the awaiting task has gone.
  auto on_done = [state](grpc::Status s) mutable {
    std::shared_ptr<client_internal::Calls> client_calls = state->calls;
    client_calls->Forget(&state->context);
    state->poster.Post([state, s = std::move(s)]() mutable {
      state->status = std::move(s);
      state->done.Set();
    });
    state.reset();  // possibly the last reference
    client_calls->Finished();
  };
  grpc::internal::CallbackUnaryCall<v1::FetchRequest, grpc::ByteBuffer,
                                    google::protobuf::MessageLite, grpc::ByteBuffer>(
      channel_.get(), methods_->fetch, &state->context, &state->request, &state->response,
      std::move(on_done));
  absl::Status waited = co_await state->done.Wait();
  if (!waited.ok()) {
    state->context.TryCancel();
    co_return waited;
  }
  if (state->status.ok()) {
    v1::FetchResponse response;
    std::optional<int> index;
    absl::Status parsed = ParseResponse(state->response, response, &index);
    if (!parsed.ok()) co_return parsed;
    co_return response;
  }
  absl::Status s = FromGrpc(state->status);
  if (!MetadataValue(state->context.GetServerTrailingMetadata(), kFetchErrorTrailer).empty()) {
    s.SetPayload(kFetchFailurePayload, absl::Cord("1"));
  }
  co_return s;
}

std::unique_ptr<FetchManyCall> FetchClient::FetchMany(v1::FetchManyRequest request,
                                                     CallOptions call) {
  auto state = std::make_shared<client_internal::StreamState>();
  state->calls = calls_;
  state->poster = LoopPoster::ForCurrentLoop();
  state->request = std::move(request);
  SetUp(state->context, call);
  calls_->Add(&state->context);
  state->Start(*channel_, *methods_, state);
  return std::unique_ptr<FetchManyCall>(new FetchManyCall(std::move(state)));
}

FetchManyCall::~FetchManyCall() {
  if (!state_->final_status.has_value()) state_->context.TryCancel();
}

void FetchManyCall::Cancel() { state_->context.TryCancel(); }

const std::string& FetchManyCall::server() const { return state_->server; }

Task<absl::StatusOr<std::optional<v1::FetchResponse>>> FetchManyCall::Next() {
  std::shared_ptr<client_internal::StreamState> s = state_;
  if (s->final_status.has_value()) {
    if (s->final_status->ok()) co_return std::nullopt;
    co_return *s->final_status;
  }
  absl::StatusOr<client_internal::StreamState::Item> item = co_await s->inbox.Get();
  if (!item.ok()) co_return item.status();  // CANCELLED: the awaiting task was cancelled
  if (auto* r = std::get_if<v1::FetchResponse>(&*item)) co_return std::move(*r);
  s->final_status = FromGrpc(std::get<grpc::Status>(*item));
  if (s->final_status->ok()) co_return std::nullopt;
  co_return *s->final_status;
}

bool IsFetchFailure(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kFetchFailurePayload).has_value();
}

}  // namespace corio::fetch
