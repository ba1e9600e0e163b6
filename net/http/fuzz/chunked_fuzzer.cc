// Fuzzes the chunked decoder: a fixed chunked response head, then the fuzzer's bytes as the
// body, fed whole, byte by byte and in pieces: the same outcome every time.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/http/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string msg = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  msg.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  corio::http::fuzz::CheckFeedsAgree(msg, 1 + data[0] % 32, false);
  return 0;
}
