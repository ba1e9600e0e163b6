#include "loop/resume.h"

namespace corio::loop_internal {

Trampoline& ThisThreadTrampoline() {
  static thread_local Trampoline t;
  return t;
}

}  // namespace corio::loop_internal
