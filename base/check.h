// CORIO_CHECK / CORIO_DCHECK: invariants whose failure is a bug in corio, never bad input
// (bad input is an absl::Status). A failed check prints file:line and the condition, then
// aborts.
//
//   CORIO_CHECK(fd >= 0);   // the condition is the message
//   CORIO_CHECK_MSG(heap_.size() < kMax, "timer heap overflow");
#ifndef CORIO_BASE_CHECK_H_
#define CORIO_BASE_CHECK_H_

#include "absl/base/optimization.h"

namespace corio::base_internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* message);
}  // namespace corio::base_internal

#define CORIO_CHECK_MSG(cond, msg)                                          \
  do {                                                                      \
    if (ABSL_PREDICT_FALSE(!(cond))) {                                      \
      ::corio::base_internal::CheckFailed(__FILE__, __LINE__, #cond, msg); \
    }                                                                       \
  } while (false)

#define CORIO_CHECK(cond) CORIO_CHECK_MSG(cond, nullptr)

#ifdef NDEBUG
#define CORIO_DCHECK(cond) \
  do {                     \
  } while (false && (cond))
#else
#define CORIO_DCHECK(cond) CORIO_CHECK(cond)
#endif

#endif  // CORIO_BASE_CHECK_H_
