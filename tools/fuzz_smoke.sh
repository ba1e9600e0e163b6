#!/usr/bin/env bash
# Builds corio's libFuzzer targets with --config=fuzz (clang 14 + libFuzzer + ASan) and runs
# each for a few seconds from its checked-in seed corpus (on a scratch copy), so the fuzz
# targets never rot and shallow bugs surface in CI. Longer runs:
#   FUZZ_SECONDS=600 tools/fuzz_smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-15}
TARGETS=(
  "//net/http:parser_fuzzer net/http/fuzz/parser_corpus"
  "//net/http:chunked_fuzzer net/http/fuzz/chunked_corpus"
  "//net/http:url_fuzzer net/http/fuzz/url_corpus"
  "//net/http:client_fuzzer net/http/fuzz/client_corpus"
)
labels=()
for t in "${TARGETS[@]}"; do labels+=("${t%% *}"); done
# gold warns about every ASan helper symbol; the build's real errors still show, and a failed
# build fails this script (pipefail; the filter itself never fails).
tools/bazel build --config=fuzz "${labels[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; }
status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${TARGETS[@]}"; do
  label=${t%% *}
  corpus=${t##* }
  bin=bazel-bin/${label#//}
  bin=${bin/://}
  name=$(basename "$bin")
  cp -r "$corpus" "$work/$name"
  echo "fuzzing $label for ${SECONDS_EACH}s"
  if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/$name" > "$work/$name.log" 2>&1; then
    echo "FUZZ FAILURE in $label:" >&2
    tail -n 40 "$work/$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units" "$work/$name.log" | sed "s/^/  $name: /"
  fi
done
exit $status
