// Fuzzes ResponseParser: any bytes, fed whole, byte by byte and in pieces, must give the same
// outcome, never crash, and never hand out views outside the input.
#include <cstddef>
#include <cstdint>

#include "net/http/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t step = 1 + data[0] % 64;  // first byte: the piece size, and HEAD or not
  const bool head_request = (data[0] & 0x80) != 0;
  corio::http::fuzz::CheckFeedsAgree(
      absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), step, head_request);
  return 0;
}
