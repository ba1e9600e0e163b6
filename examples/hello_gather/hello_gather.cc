#include "examples/hello_gather/hello_gather.h"

#include <string>

#include "base/status_macros.h"
#include "loop/event_loop.h"
#include "tasks/gather.h"
#include "tasks/sleep.h"

namespace corio::examples {
namespace {

Task<absl::Status> Say(std::FILE* out, std::string what, absl::Duration delay) {
  CORIO_CO_RETURN_IF_ERROR(co_await Sleep(delay));
  std::fprintf(out, "%s\n", what.c_str());
  co_return absl::OkStatus();
}

}  // namespace

Task<absl::StatusOr<absl::Duration>> HelloGather(std::FILE* out) {
  const absl::Time start = EventLoop::Current()->Now();
  CORIO_CO_RETURN_IF_ERROR(co_await Gather(Say(out, "hello", absl::Seconds(1)),
                                           Say(out, "concurrent", absl::Seconds(1)),
                                           Say(out, "world", absl::Seconds(1))));
  co_return EventLoop::Current()->Now() - start;
}

}  // namespace corio::examples
