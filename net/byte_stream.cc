#include "net/byte_stream.h"

#include "absl/strings/str_cat.h"

namespace corio {

Task<absl::Status> ByteStream::ReadExactly(absl::Span<char> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    absl::StatusOr<size_t> n = co_await Read(buf.subspan(got));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return absl::UnavailableError(
          absl::StrCat("connection closed after ", got, " of ", buf.size(), " bytes"));
    }
    got += *n;
  }
  co_return absl::OkStatus();
}

}  // namespace corio
