#!/usr/bin/env bash
# The fetch service beside the fetch command fetching locally: same lists, same nginx, same
# run, one table (../shared/bench/run_anchors.sh). Columns:
#   corio         the fetch command, locally (one loop per core)
#   svc-1         FetchMany through one fetch_server (bodies counted there, not sent back)
#   svc-2, svc-3  the same through 2 and 3 replicas (127.0.0.1/.2/.3), balanced round robin
#   svc-unary     64 concurrent unary Fetch calls to one replica
# Every replica runs with one loop per core and allows private networks (nginx is on
# loopback). On a 2-core machine the replicas, the client and nginx share the same two cores:
# more replicas cannot add CPU here, so svc-2/svc-3 show the cost of spreading, not a gain.
#
#   bench/run_fetch_service.sh                    # 1k:64, 3 reps
#   bench/run_fetch_service.sh --reps 1           # quick
# ANCHORS: the harness directory (default ../shared/bench). Extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
# ../shared/bench from the main checkout; ../../shared/bench from a worktree under wt/.
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/bench}
[ -x "$ANCHORS/run_anchors.sh" ] || ANCHORS=$(cd ../.. && pwd)/shared/bench
[ -x "$ANCHORS/run_anchors.sh" ] || { echo "no anchor harness at $ANCHORS (set ANCHORS=...)" >&2; exit 2; }
tools/bazel build -c opt //cmd:fetch //cmd:fetch_server //net/fetch/bench:fetch_service >&2
BIN_DIR=${BENCH_DIR:-/tmp/fetch-bench}/corio
mkdir -p "$BIN_DIR"
cp -f bazel-bin/cmd/fetch bazel-bin/cmd/fetch_server bazel-bin/net/fetch/bench/fetch_service \
  bench/tally_jsonl.awk "$BIN_DIR/"

pids=()
stop_replicas() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_replicas EXIT
addrs=()
for host in 127.0.0.1 127.0.0.2 127.0.0.3; do
  out=$(mktemp)
  "$BIN_DIR/fetch_server" --host=$host --port=0 --allow_private_networks \
    --max_concurrent_fetches=4096 >"$out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$out" && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$out" | head -n1)
  [ -n "$addr" ] || { echo "fetch_server on $host did not start" >&2; exit 1; }
  addrs+=("$addr")
  rm -f "$out"
done
echo "replicas: ${addrs[*]}" >&2

SVC="$BIN_DIR/fetch_service --input {LIST} --concurrency {C}"
LOCAL="$BIN_DIR/fetch --concurrency={C} --input={LIST} --output=jsonl | awk -f $BIN_DIR/tally_jsonl.awk"
"$ANCHORS/run_anchors.sh" --workloads "${WORKLOADS:-1k:64}" --clients "${CLIENTS:-wrk}" \
  --extra "corio=$LOCAL" \
  --extra "svc-1=$SVC --target ipv4:${addrs[0]}" \
  --extra "svc-2=$SVC --target ipv4:${addrs[0]},${addrs[1]}" \
  --extra "svc-3=$SVC --target ipv4:${addrs[0]},${addrs[1]},${addrs[2]}" \
  --extra "svc-unary=$SVC --target ipv4:${addrs[0]} --mode unary" "$@"
