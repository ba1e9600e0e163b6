#include "net/fetch/service.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/fetch/utf8.h"
#include "net/fetch/validate.h"

namespace corio::fetch {
namespace {

v1::FetchResponse ErrorResponse(int index, const absl::Status& status) {
  v1::FetchResponse r;
  r.set_index(index);
  r.mutable_error()->set_code(static_cast<int>(status.code()));
  r.mutable_error()->set_message(ToValidUtf8(status.message()));
  return r;
}

// Counts the call in (sets `admitted`), or refuses it while the server drains.
absl::Status Admit(FetchServiceImpl& service, FetchServiceImpl*& admitted) {
  if (!service.EnterCall()) {
    return absl::UnavailableError("fetch server shutting down: not taking new calls");
  }
  admitted = &service;
  return absl::OkStatus();
}

absl::Status Overloaded(const Dispatcher& d) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "fetch service busy: all ", d.capacity(), " concurrent fetch slots are in use"));
}

// One Fetch call. Owned by shared_ptr: by itself until gRPC's OnDone, and by its fetch's
// completion callback until that ran; whichever lets go last deletes it.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  static grpc::ServerUnaryReactor* Begin(FetchServiceImpl& service,
                                         grpc::CallbackServerContext* context,
                                         const v1::FetchRequest* request,
                                         v1::FetchResponse* response) {
    auto call = std::make_shared<UnaryCall>(service.dispatcher(), context, response);
    std::unique_lock<std::mutex> lock(call->mu_);
    call->self_ = call;
    service.NameServer(*context);
    absl::Status s = Admit(service, call->service_);
    if (s.ok()) s = service.Authenticate(*context);
    if (s.ok()) s = ValidateFetchRequest(*request);
    if (s.ok() && service.dispatcher().TryReserve(1) == 0) s = Overloaded(service.dispatcher());
    if (!s.ok()) {
      call->finished_ = true;
      lock.unlock();
      call->Finish(ToGrpcStatus(s));  // on the handler's thread: before binding is fine
      return call.get();
    }
    // The fetch's result may be ready before gRPC has bound this reactor; Finish waits for
    // OnSendInitialMetadataDone, which comes after the binding.
    call->StartSendInitialMetadata();
    Dispatcher::Job job{*request, CallDeadline(*context), absl::Now()};
    call->ticket_ = service.dispatcher().Start(
        std::move(job), [call](absl::Status status, v1::FetchResponse r) mutable {
          call->Complete(std::move(status), std::move(r));
        });
    call->fetch_running_ = true;
    return call.get();
  }

  UnaryCall(Dispatcher& dispatcher, grpc::CallbackServerContext* context,
            v1::FetchResponse* response)
      : dispatcher_(dispatcher), context_(context), response_(response) {}

  void OnSendInitialMetadataDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    bound_ = true;
    if (!ok || finished_ || !result_.has_value()) return;  // !ok: OnCancel follows
    finished_ = true;
    Finish(std::move(*result_));
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    if (fetch_running_) dispatcher_.Cancel(ticket_);
    Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    std::shared_ptr<UnaryCall> self;
    FetchServiceImpl* service;
    {
      std::lock_guard<std::mutex> lock(mu_);
      self = std::move(self_);  // released after the lock, possibly the last reference
      service = service_;
    }
    if (service != nullptr) service->ExitCall();  // last: the service may go after it
  }

 private:
  // On the loop thread of the fetch.
  void Complete(absl::Status status, v1::FetchResponse r) {
    dispatcher_.Release(1);
    std::lock_guard<std::mutex> lock(mu_);
    fetch_running_ = false;
    if (finished_) return;  // cancelled meanwhile
    grpc::Status result;
    if (status.ok()) {
      *response_ = std::move(r);
      response_->set_index(0);
      MakeStringsValidUtf8(*response_);  // what the peer sent may not be UTF-8
    } else {
      context_->AddTrailingMetadata(kFetchErrorTrailer, "1");
      result = ToGrpcStatus(status);
    }
    if (!bound_) {
      result_ = std::move(result);
      return;
    }
    finished_ = true;
    Finish(std::move(result));
  }

  Dispatcher& dispatcher_;
  grpc::CallbackServerContext* const context_;
  v1::FetchResponse* const response_;

  std::mutex mu_;
  std::shared_ptr<UnaryCall> self_;
  FetchServiceImpl* service_ = nullptr;  // set when admitted (it counts this call)
  bool bound_ = false;     // initial metadata sent: gRPC has bound the reactor
  bool finished_ = false;  // Finish was called (or is about to be, by whoever set this)
  std::optional<grpc::Status> result_;  // ready before bound_
  bool fetch_running_ = false;
  Dispatcher::Ticket ticket_;
};

// One FetchMany call; owned like UnaryCall (each running fetch's callback holds a reference).
class StreamCall final : public grpc::ServerWriteReactor<v1::FetchResponse> {
 public:
  static grpc::ServerWriteReactor<v1::FetchResponse>* Begin(
      FetchServiceImpl& service, grpc::CallbackServerContext* context,
      const v1::FetchManyRequest* request) {
    auto call = std::make_shared<StreamCall>(service.dispatcher(), context, request);
    std::unique_lock<std::mutex> lock(call->mu_);
    call->self_ = call;
    service.NameServer(*context);
    const FetchServiceOptions& o = service.options();
    absl::Status s = Admit(service, call->service_);
    if (s.ok()) s = service.Authenticate(*context);
    if (s.ok()) s = ValidateFetchManyRequest(*request, o.max_requests_per_call);
    if (s.ok()) {
      int c = request->max_concurrency() > 0 ? request->max_concurrency()
                                              : o.default_call_concurrency;
      c = std::clamp(c, 1, std::max(1, o.max_call_concurrency));
      call->concurrency_ = std::min(c, request->requests_size());
      call->slots_ = service.dispatcher().TryReserve(call->concurrency_);
      if (call->slots_ == 0) s = Overloaded(service.dispatcher());
    }
    if (!s.ok()) {
      call->finished_ = true;
      lock.unlock();
      call->Finish(ToGrpcStatus(s));
      return call.get();
    }
    call->StartSendInitialMetadata();  // see UnaryCall::Begin
    call->PumpLocked();                // starts fetches; writes wait for the binding
    return call.get();
  }

  StreamCall(Dispatcher& dispatcher, grpc::CallbackServerContext* context,
             const v1::FetchManyRequest* request)
      : dispatcher_(dispatcher),
        request_(request),
        n_(request->requests_size()),
        deadline_(CallDeadline(*context)),
        arrived_(absl::Now()),
        worker_(dispatcher.PickWorker()) {}

  void OnSendInitialMetadataDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) return AbortLocked();
    bound_ = true;
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) return AbortLocked();  // the stream is broken: the client went away
    writing_ = false;
    queue_.pop_front();
    PumpLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    AbortLocked();
  }

  void OnDone() override {
    std::shared_ptr<StreamCall> self;
    FetchServiceImpl* service;
    {
      std::lock_guard<std::mutex> lock(mu_);
      self = std::move(self_);
      service = service_;
    }
    if (service != nullptr) service->ExitCall();
  }

 private:
  // Starts what may start, hands back the slots no running fetch holds, and starts the next
  // write, or finishes the call when everything has been written. A slot is held only while
  // a fetch runs: results waiting for a slow reader hold none (they are bounded by the queue).
  // A write with more results queued behind it carries gRPC's buffer hint: it completes at
  // once and is sent with the next unhinted write (the last queued result's) or the trailers,
  // so results that complete together leave in one transport write instead of one each;
  // nothing waits for a result that has not arrived.
  void PumpLocked() {
    if (finished_) return;
    while (next_ < n_ && in_flight_ < concurrency_ &&
           static_cast<int>(queue_.size()) < concurrency_) {
      const int i = next_;
      const v1::FetchRequest& r = request_->requests(i);
      absl::Status valid = ValidateFetchRequest(r);
      if (!valid.ok()) {
        ++next_;
        queue_.push_back(ErrorResponse(i, valid));
        continue;
      }
      if (slots_ == in_flight_ && !TakeSlotLocked()) break;
      ++next_;
      ++in_flight_;
      Dispatcher::Job job{r, deadline_, arrived_};
      auto done = [call = self_, i](absl::Status status, v1::FetchResponse resp) mutable {
        call->ItemDone(i, std::move(status), std::move(resp));
      };
      // Runs of kItemsPerLoop consecutive requests share a loop: a small call's fetches and
      // their results stay on one loop thread, a large one still spreads over every loop.
      const uint32_t worker =
          (worker_ + static_cast<uint32_t>(i / kItemsPerLoop)) % dispatcher_.workers();
      tickets_[i] = dispatcher_.Start(std::move(job), std::move(done), worker);
    }
    if (slots_ > in_flight_) {
      dispatcher_.Release(slots_ - in_flight_);
      slots_ = in_flight_;
    }
    if (!bound_ || writing_) return;
    if (!queue_.empty()) {
      writing_ = true;
      grpc::WriteOptions options;
      if (queue_.size() > 1) options.set_buffer_hint();
      StartWrite(&queue_.front(), options);
    } else if (in_flight_ == 0 && next_ == n_) {
      finished_ = true;
      // The last fetches may have ended at the call's deadline (theirs is the same), before
      // gRPC noticed it: the call is still over its deadline, not a success.
      if (deadline_ != absl::InfiniteFuture() && absl::Now() >= deadline_) {
        Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                            "fetch service: the call's deadline passed"));
      } else {
        Finish(grpc::Status::OK);
      }
    }
  }

  // One more slot for the next fetch: true when it got one. With a fetch of its own running,
  // the call tries (that fetch's end brings it back here); with none, it waits for a slot
  // (SlotGranted) rather than stall, ahead of calls not yet admitted.
  bool TakeSlotLocked() {
    if (waiting_for_slot_) return false;
    if (in_flight_ > 0) {
      if (dispatcher_.TryReserve(1) == 0) return false;
    } else {
      auto granted = [call = self_] { call->SlotGranted(); };
      if (!dispatcher_.ReserveOrWait(std::move(granted))) {
        waiting_for_slot_ = true;
        return false;
      }
    }
    ++slots_;
    return true;
  }

  // On a loop thread, with a slot reserved for this call.
  void SlotGranted() {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_for_slot_ = false;
    ++slots_;
    if (finished_) {
      --slots_;
      dispatcher_.Release(1);
      return;
    }
    PumpLocked();
  }

  // On the loop thread of fetch `i`.
  void ItemDone(int i, absl::Status status, v1::FetchResponse r) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    tickets_.erase(i);
    if (finished_) {  // aborted: just give the slot back
      --slots_;
      dispatcher_.Release(1);
      return;
    }
    r.set_index(i);
    if (!status.ok()) {
      r.mutable_error()->set_code(static_cast<int>(status.code()));
      r.mutable_error()->set_message(std::string(status.message()));
    }
    // What the peer sent may not be UTF-8; one such string would make the message, and so
    // the whole stream, unparsable for the client.
    MakeStringsValidUtf8(r);
    queue_.push_back(std::move(r));
    PumpLocked();
  }

  // The client cancelled, its deadline passed, or the stream broke: finish now, cancel the
  // fetches still running (their slots come back as they end).
  void AbortLocked() {
    if (finished_) return;
    finished_ = true;
    for (const auto& [i, t] : tickets_) dispatcher_.Cancel(t);
    dispatcher_.Release(slots_ - in_flight_);
    slots_ = in_flight_;
    Finish(grpc::Status::CANCELLED);
  }

  Dispatcher& dispatcher_;
  const v1::FetchManyRequest* const request_;  // valid until OnDone
  const int n_;
  const absl::Time deadline_;
  const absl::Time arrived_;
  static constexpr int kItemsPerLoop = 16;
  const uint32_t worker_;  // the loop of the call's first kItemsPerLoop fetches

  std::mutex mu_;
  std::shared_ptr<StreamCall> self_;
  FetchServiceImpl* service_ = nullptr;  // set when admitted (it counts this call)
  int concurrency_ = 1;
  int slots_ = 0;      // reserved from the dispatcher: in_flight_, plus spares in PumpLocked
  int next_ = 0;       // the next request to start
  int in_flight_ = 0;  // started, not yet done
  std::deque<v1::FetchResponse> queue_;  // results not yet written (front: being written)
  absl::flat_hash_map<int, Dispatcher::Ticket> tickets_;  // of the fetches in flight
  bool bound_ = false;
  bool writing_ = false;
  bool finished_ = false;
  bool waiting_for_slot_ = false;  // in the dispatcher's ReserveOrWait line
};

}  // namespace

FetchServiceImpl::FetchServiceImpl(Dispatcher& dispatcher, FetchServiceOptions options)
    : dispatcher_(dispatcher), options_(std::move(options)), token_(options_.bearer_token) {}

grpc::ServerUnaryReactor* FetchServiceImpl::Fetch(grpc::CallbackServerContext* context,
                                                  const v1::FetchRequest* request,
                                                  v1::FetchResponse* response) {
  return UnaryCall::Begin(*this, context, request, response);
}

grpc::ServerWriteReactor<v1::FetchResponse>* FetchServiceImpl::FetchMany(
    grpc::CallbackServerContext* context, const v1::FetchManyRequest* request) {
  return StreamCall::Begin(*this, context, request);
}

void FetchServiceImpl::StartDraining() {
  std::lock_guard<std::mutex> lock(calls_mu_);
  draining_ = true;
}

bool FetchServiceImpl::WaitForCalls(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(calls_mu_);
  return calls_cv_.wait_until(lock, absl::ToChronoTime(deadline), [&] { return calls_ == 0; });
}

bool FetchServiceImpl::EnterCall() {
  std::lock_guard<std::mutex> lock(calls_mu_);
  if (draining_) return false;
  ++calls_;
  return true;
}

void FetchServiceImpl::ExitCall() {
  std::lock_guard<std::mutex> lock(calls_mu_);
  if (--calls_ == 0) calls_cv_.notify_all();
}

void FetchServiceImpl::SetServerName(std::string name) {
  if (late_name_ != nullptr) return;
  late_name_ = std::make_unique<const std::string>(std::move(name));
  late_name_ptr_.store(late_name_.get(), std::memory_order_release);
}

void FetchServiceImpl::NameServer(grpc::CallbackServerContext& context) const {
  const std::string* late = late_name_ptr_.load(std::memory_order_acquire);
  const std::string& name = late != nullptr ? *late : options_.server_name;
  if (!name.empty()) context.AddInitialMetadata(kFetchServerHeader, name);
}

absl::Status FetchServiceImpl::Authenticate(const grpc::CallbackServerContext& context) const {
  if (!token_.required()) return absl::OkStatus();
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return token_.Check(std::nullopt);
  return token_.Check(absl::string_view(it->second.data(), it->second.size()));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), ToValidUtf8(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::Time CallDeadline(const grpc::ServerContextBase& context) {
  const std::chrono::system_clock::time_point d = context.deadline();
  if (d == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(d);
}

}  // namespace corio::fetch
