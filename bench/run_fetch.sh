#!/usr/bin/env bash
# The fetch command beside the anchors of ../shared/bench (aiohttp, curl --parallel, Go
# net/http, Go fasthttp, Boost.Beast, and the wrk/h2load ceilings), same lists, same nginx,
# same run, one table. Each corio column is `fetch --output=jsonl` tallied by awk (as curl's
# anchor is tallied), bodies counted, not stored.
#
#   bench/run_fetch.sh                          # all workloads, 3 reps (~20 min)
#   bench/run_fetch.sh --reps 1 --workloads 1k:64 --clients curl,beast   # quick
#
# Columns: corio (one loop per core), corio-t1 (--threads=1). Extra arguments go to
# run_anchors.sh. ANCHORS: the harness directory (default ../shared/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/bench}
[ -x "$ANCHORS/run_anchors.sh" ] || { echo "no anchor harness at $ANCHORS (set ANCHORS=...)" >&2; exit 2; }
tools/bazel build -c opt //cmd:fetch >&2
BIN_DIR=${BENCH_DIR:-/tmp/fetch-bench}/corio
mkdir -p "$BIN_DIR"
cp -f bazel-bin/cmd/fetch "$BIN_DIR/fetch"
cp -f bench/tally_jsonl.awk "$BIN_DIR/tally_jsonl.awk"
# {LIST} and {C} are the harness's; BENCH_CACERT (https) and BENCH_NEWCONN (a new connection
# per request) are set by it per workload.
FLAGS='--concurrency={C} --input={LIST} --output=jsonl ${BENCH_CACERT:+--cacert=$BENCH_CACERT} ${BENCH_NEWCONN:+--header=Connection:close}'
TALLY="| awk -f $BIN_DIR/tally_jsonl.awk"
args=(--workloads "${WORKLOADS:-1k:64,64k:64,1m:16,1k:1,one:1,tls1k:64,tlsnew:16}")
exec "$ANCHORS/run_anchors.sh" "${args[@]}" \
  --extra "corio=$BIN_DIR/fetch $FLAGS $TALLY" \
  --extra "corio-t1=$BIN_DIR/fetch --threads=1 $FLAGS $TALLY" "$@"
