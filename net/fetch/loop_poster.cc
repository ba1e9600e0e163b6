#include "net/fetch/loop_poster.h"

#include <utility>

#include "base/check.h"

namespace corio::fetch {

LoopPoster::Holder::~Holder() {
  if (token == nullptr) return;
  std::lock_guard<std::mutex> lock(token->mu);
  token->loop = nullptr;
}

LoopPoster LoopPoster::ForCurrentLoop() {
  EventLoop* loop = EventLoop::Current();
  CORIO_CHECK_MSG(loop != nullptr, "LoopPoster::ForCurrentLoop: no event loop on this thread");
  Holder& h = loop->Local<Holder>();
  if (h.token == nullptr) {
    h.token = std::make_shared<Token>();
    h.token->loop = loop;
  }
  return LoopPoster(h.token);
}

bool LoopPoster::Post(Callback cb) const {
  if (token_ == nullptr) return false;
  std::lock_guard<std::mutex> lock(token_->mu);
  if (token_->loop == nullptr) return false;
  token_->loop->CallSoonThreadSafe(std::move(cb));
  return true;
}

}  // namespace corio::fetch
