// Sha256: the SHA-256 digest (FIPS 180-4) of a byte string. The fetch service compares bearer
// tokens by their digests, so the comparison takes the same time whatever the tokens are.
// (Only net/tls may use OpenSSL; this small implementation keeps net/fetch off it.)
//
//   std::array<uint8_t, 32> d = corio::fetch::Sha256("abc");
//   // ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
//
// Threading: pure functions.
// Errors: none.
#ifndef CORIO_NET_FETCH_SHA256_H_
#define CORIO_NET_FETCH_SHA256_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace corio::fetch {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(absl::string_view data);

// Whether two digests are equal, in time that does not depend on where they differ.
bool DigestsEqual(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace corio::fetch

#endif  // CORIO_NET_FETCH_SHA256_H_
