// Shared by corio's HTTP fuzz targets: feed a response in pieces, as a read loop would, and
// summarize what the parser made of it, so different feeds can be compared.
#ifndef CORIO_NET_HTTP_FUZZ_FUZZ_COMMON_H_
#define CORIO_NET_HTTP_FUZZ_FUZZ_COMMON_H_

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "net/http/parser.h"

namespace corio::http::fuzz {

struct Summary {
  bool ok = true;
  absl::StatusCode code = absl::StatusCode::kOk;
  int status = 0;
  size_t headers = 0;
  std::string body;
  size_t consumed = 0;
  bool done = false;
  bool head_complete = false;
  bool received_any = false;
  // A failure compares by code, and by which side of the head it fell on (the client replays
  // a request only when no valid head, or no byte at all, arrived).
  bool operator==(const Summary& o) const {
    if (!ok || !o.ok) {
      return ok == o.ok && code == o.code && head_complete == o.head_complete &&
             received_any == o.received_any;
    }
    return status == o.status && headers == o.headers && body == o.body && consumed == o.consumed &&
           done == o.done;
  }
};

inline void Check(bool cond) {
  if (!cond) std::abort();
}

// Feeds `msg` with cuts every `step` bytes (0: whole), then Finish() at the end.
inline Summary FeedInPieces(absl::string_view msg, size_t step, bool head_request) {
  ParserLimits limits;
  limits.max_head_bytes = 4096;  // keep runs fast
  ResponseParser p(limits);
  p.Reset(head_request);
  Summary s;
  std::string buf;
  size_t pos = 0;
  while (true) {
    const size_t end = step == 0 ? msg.size() : std::min(msg.size(), pos + step);
    buf.append(msg.data() + pos, end - pos);
    pos = end;
    const bool had_head = p.head_complete();
    absl::StatusOr<size_t> used = p.Parse(buf, [&](absl::string_view b) {
      Check(b.data() >= buf.data() && b.data() + b.size() <= buf.data() + buf.size());
      s.body.append(b.data(), b.size());
    });
    if (!used.ok()) {
      s.ok = false;
      s.code = used.status().code();
      s.head_complete = p.head_complete();
      s.received_any = p.received_any();
      Check(s.received_any);
      return s;
    }
    Check(*used <= buf.size());
    if (!had_head && p.head_complete()) {
      s.status = p.head().status;
      s.headers = p.head().headers.size();
      for (const Header& h : p.head().headers) {  // views must point into the buffer
        Check(h.name.data() >= buf.data() &&
              h.value.data() + h.value.size() <= buf.data() + buf.size());
      }
    }
    s.consumed += *used;
    buf.erase(0, *used);
    if (p.done() || pos == msg.size()) break;
  }
  if (!p.done()) {
    absl::Status f = p.Finish();
    if (!f.ok()) {
      s.ok = false;
      s.code = f.code();
      s.head_complete = p.head_complete();
      s.received_any = p.received_any();
      Check(s.received_any == !msg.empty());
      return s;
    }
  }
  s.done = p.done();
  Check(p.body_bytes() == s.body.size());
  return s;
}

// Whole vs. byte-at-a-time vs. `step`-sized pieces: the same outcome.
inline void CheckFeedsAgree(absl::string_view msg, size_t step, bool head_request) {
  const Summary whole = FeedInPieces(msg, 0, head_request);
  Check(FeedInPieces(msg, 1, head_request) == whole);
  if (step > 1) Check(FeedInPieces(msg, step, head_request) == whole);
}

}  // namespace corio::http::fuzz

#endif  // CORIO_NET_HTTP_FUZZ_FUZZ_COMMON_H_
