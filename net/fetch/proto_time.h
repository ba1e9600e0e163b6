// Conversions between absl::Duration / absl::Time and google.protobuf.Duration, for the fetch
// service's messages.
//
//   *msg.mutable_timeout() = corio::fetch::ToProtoDuration(absl::Seconds(5));
//   absl::Duration d = corio::fetch::FromProtoDuration(msg.timeout());
//
// Threading: pure functions. Errors: none; out-of-range values saturate (an infinite
// duration becomes the largest google.protobuf.Duration, 10,000 years).
#ifndef CORIO_NET_FETCH_PROTO_TIME_H_
#define CORIO_NET_FETCH_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"

namespace corio::fetch {

inline google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  // google.protobuf.Duration allows +-315,576,000,000 s (10,000 years).
  constexpr int64_t kMaxSeconds = 315576000000;
  google::protobuf::Duration out;
  if (d >= absl::Seconds(kMaxSeconds)) {
    out.set_seconds(kMaxSeconds);
    return out;
  }
  if (d <= absl::Seconds(-kMaxSeconds)) {
    out.set_seconds(-kMaxSeconds);
    return out;
  }
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));  // same sign as seconds
  return out;
}

inline absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_PROTO_TIME_H_
