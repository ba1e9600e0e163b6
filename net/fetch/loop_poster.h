// LoopPoster: hands callbacks to an event loop from any thread (gRPC's), and drops them once
// the loop is gone instead of touching a destroyed loop. The fetch client's gRPC callbacks
// reach the loop that started the call through one.
//
//   LoopPoster poster = LoopPoster::ForCurrentLoop();     // on the loop's thread
//   ... on a gRPC thread:  poster.Post([state] { state->done.Set(); });
//
// Threading: ForCurrentLoop on a loop's thread; Post from any thread, any time.
// Ownership: a poster shares a token with its loop; the loop's destruction clears the token
// (under its lock), after which Post destroys callbacks unrun on the calling thread.
#ifndef CORIO_NET_FETCH_LOOP_POSTER_H_
#define CORIO_NET_FETCH_LOOP_POSTER_H_

#include <memory>
#include <mutex>

#include "loop/callback.h"
#include "loop/event_loop.h"

namespace corio::fetch {

class LoopPoster {
 public:
  LoopPoster() = default;
  static LoopPoster ForCurrentLoop();

  // Runs `cb` on the loop's thread (later, never inline), or drops it if the loop is gone.
  // Returns whether it was handed over.
  bool Post(Callback cb) const;

 private:
  struct Token {
    std::mutex mu;
    EventLoop* loop = nullptr;  // null once the loop is destroyed
  };
  struct Holder {  // EventLoop::Local: destroyed with the loop
    std::shared_ptr<Token> token;
    ~Holder();
  };
  explicit LoopPoster(std::shared_ptr<Token> token) : token_(std::move(token)) {}

  std::shared_ptr<Token> token_;
};

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_LOOP_POSTER_H_
