#!/usr/bin/env bash
# Proves corio's dependency rules with `bazel query` (see DESIGN.md, "Layers and targets"):
#  1. //loop and //tasks libraries depend on nothing outside //base, //loop, //tasks but Abseil
#     (and liburing, from //loop:poller_uring alone); //loop does not see //tasks.
#  2. Only //net/fetch and //cmd depend on gRPC or protobuf (and //svcaudit's test-only clients).
#  3. Only //net/dns uses c-ares directly; only //net/tls uses OpenSSL directly.
# Exits 1 and names the offending targets otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BAZEL=${BAZEL:-tools/bazel}
fail=0
q() { "$BAZEL" query --noimplicit_deps --keep_going "$1" 2>/dev/null | sort || true; }
exists() { [ -n "$(q "$1")" ]; }

check_empty() {  # description, query
  local out
  out=$(q "$2")
  if [ -n "$out" ]; then
    echo "layering: $1:" >&2
    sed 's/^/  /' <<<"$out" >&2
    fail=1
  else
    echo "layering ok: $1"
  fi
}

core='(//base/... + //loop/...)'
exists '//tasks/...' && core='(//base/... + //loop/... + //tasks/...)'
libs="attr(testonly, 0, kind(rule, $core))"
check_empty "//loop and //tasks depend only on Abseil (and liburing)" \
  "kind(rule, deps($libs)) except kind(rule, $core) except @com_google_absl//... except @liburing//..."
check_empty "only //loop:poller_uring links liburing" \
  "kind(rule, rdeps($libs, @liburing//:liburing, 1)) except //loop:poller_uring except @liburing//..."
if exists '//tasks/...'; then
  check_empty "//loop does not depend on //tasks" "kind(rule, deps(//loop/...)) intersect //tasks/..."
fi
if exists '//net/...'; then
  check_empty "//tasks and //loop do not depend on //net" \
    "kind(rule, deps(kind(rule, $core))) intersect //net/..."
fi

grpc='(@com_github_grpc_grpc//... + @com_google_protobuf//...)'
allowed='(//net/fetch/... + //cmd/...)'
exists '//net/fetch/...' || allowed='//cmd/...'
exists '//cmd/...' || allowed=''
# The fetch service audit's tests speak gRPC as outside clients do (test-only, nothing links them).
exists '//svcaudit/...' && allowed="${allowed:+($allowed + attr(testonly, 1, //svcaudit/...))}"
# C++ rules only: a script test may run a built binary of //cmd (a data dependency) without
# linking gRPC itself.
check_empty "only //net/fetch and //cmd depend on gRPC/protobuf" \
  "kind('cc_.* rule', rdeps(//..., $grpc)) except $grpc ${allowed:+except $allowed}"

dns_ok='//net/dns/...'
exists '//net/dns/...' || dns_ok=''
check_empty "only //net/dns uses c-ares directly" \
  "kind(rule, rdeps(//..., @com_github_c_ares_c_ares//:ares, 1)) except @com_github_c_ares_c_ares//... ${dns_ok:+except $dns_ok}"
tls_ok='//net/tls/...'
exists '//net/tls/...' || tls_ok=''
check_empty "only //net/tls uses OpenSSL directly" \
  "kind(rule, rdeps(//..., (@openssl//:ssl + @openssl//:crypto), 1)) except @openssl//... ${tls_ok:+except $tls_ok}"
exit $fail
