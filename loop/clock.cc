#include "loop/clock.h"

namespace corio {
namespace {

class MonotonicClock final : public Clock {
 public:
  absl::Time Now() const override {
    return loop_internal::NanosToTime(loop_internal::MonotonicNanos());
  }
};

}  // namespace

Clock& SystemClock() {
  static MonotonicClock* const clock = new MonotonicClock();
  return *clock;
}

}  // namespace corio
