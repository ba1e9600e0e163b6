// ResumeCoroutine / TransferTo: resume coroutines without growing the stack, whatever the
// compiler does with symmetric transfer.
//
// Symmetric transfer (await_suspend returning the next coroutine) is meant to be a tail call;
// GCC emits it as one only with sibling-call optimization (off at -O0/-O1) and never under its
// ThreadSanitizer, so a long run of awaits that complete without suspending (a million nested
// Task awaits, or a loop of reads that find data already buffered) would overflow the stack
// (libcoro #273). corio therefore resumes through a trampoline: ResumeCoroutine(h) runs h and
// then, iteratively, each coroutine handed to TransferTo() while it ran.
//
//   std::coroutine_handle<> await_suspend(std::coroutine_handle<> me) {
//     child.promise().continuation = me;
//     return corio::TransferTo(child);   // instead of `return child;`
//   }
//   loop.CallSoon(handle);               // the loop resumes handles via ResumeCoroutine
//
// Threading: per thread (thread-local state).
#ifndef CORIO_LOOP_RESUME_H_
#define CORIO_LOOP_RESUME_H_

#include <coroutine>

#include "base/config.h"  // first: a clear error below C++20

namespace corio {

namespace loop_internal {
struct Trampoline {
  std::coroutine_handle<> pending;  // handed off by TransferTo, resumed next
  bool active = false;              // a ResumeCoroutine loop is running on this thread
};
Trampoline& ThisThreadTrampoline();
}  // namespace loop_internal

// Resumes `h`, then every coroutine transferred to while it ran, until all are suspended.
// Reentrant: a nested call finishes its own chain and leaves the outer one untouched.
inline void ResumeCoroutine(std::coroutine_handle<> h) {
  loop_internal::Trampoline& t = loop_internal::ThisThreadTrampoline();
  const std::coroutine_handle<> outer_pending = t.pending;
  const bool outer_active = t.active;
  t.pending = nullptr;
  t.active = true;
  while (h) {
    h.resume();
    h = t.pending;
    t.pending = nullptr;
  }
  t.pending = outer_pending;
  t.active = outer_active;
}

// For await_suspend: the coroutine to continue with after suspending the current one. Inside
// ResumeCoroutine it parks `next` for the trampoline and returns a no-op; elsewhere (or if a
// handoff is already parked) it falls back to plain symmetric transfer.
inline std::coroutine_handle<> TransferTo(std::coroutine_handle<> next) noexcept {
  loop_internal::Trampoline& t = loop_internal::ThisThreadTrampoline();
  if (t.active && !t.pending) {
    t.pending = next;
    return std::noop_coroutine();
  }
  return next;
}

}  // namespace corio

#endif  // CORIO_LOOP_RESUME_H_
