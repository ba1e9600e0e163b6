#include "tasks/to_thread.h"

namespace corio::tasks_internal {
namespace {

// Loop-local: owns the loop's LoopRef and clears it when the loop is destroyed.
struct LoopRefHolder {
  std::shared_ptr<LoopRef> ref = std::make_shared<LoopRef>();
  ~LoopRefHolder() {
    std::lock_guard<std::mutex> lock(ref->mu);
    ref->loop = nullptr;
  }
};

}  // namespace

std::shared_ptr<LoopRef> LoopRefFor(EventLoop& loop) {
  LoopRefHolder& holder = loop.Local<LoopRefHolder>();
  {
    std::lock_guard<std::mutex> lock(holder.ref->mu);
    holder.ref->loop = &loop;
  }
  return holder.ref;
}

}  // namespace corio::tasks_internal
