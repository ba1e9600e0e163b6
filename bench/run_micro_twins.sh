#!/usr/bin/env bash
# corio's loop/tasks micro-benchmarks beside the anchors of ../shared/bench/micro, like for like:
#
#   fresh  one pass in a fresh process, each job in its own process (what the anchors measure):
#          ../shared/bench/micro/asio_micro.cpp, libuv_micro.c, asyncio_micro.py, and corio's
#          twin bench/corio_micro.cc (same jobs, same counters, corio's public API); also
#          bench/asio_micro_warm.cpp with one pass, the anchor's Asio jobs plus a CPU counter;
#   warm   the job repeated in one process, the median of passes 2..PASSES: corio_micro and
#          bench/asio_micro_warm.cpp (the anchor's jobs on one io_context), plus corio's
#          Google Benchmark figures (//loop:event_loop_benchmark, //tasks:tasks_benchmark).
#
# Counters: ns_per_op is wall time, the anchors' counter; cpu_ns_per_op is the process's CPU
# time (user + system) per op, which other processes competing for the cores hardly move: on
# a loaded machine, trust its ratio more.
# REPS rounds (default 5), interleaved (asio, corio, ... per job) so that load from others on
# the machine hits both sides alike; prints medians and corio/anchor ratios.
#   bench/run_micro_twins.sh [REPS] [PASSES]        (RAW_OUT=file keeps every measured line)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-5}
PASSES=${2:-5}
# The anchors live beside the main checkout (../shared), also when run from a git worktree.
MAIN=$(git worktree list --porcelain | sed -n '1s/^worktree //p')
MICRO=${MICRO_DIR:-$MAIN/../shared/bench/micro}
BIN=$(mktemp -d)
RAW=$(mktemp)
trap 'rm -rf "$BIN" "$RAW"' EXIT
for p in libboost1.81-dev libuv1-dev time; do
  dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >/dev/null
done
g++ -O2 -std=c++20 -o "$BIN/asio_micro" "$MICRO/asio_micro.cpp"
g++ -O2 -std=c++20 -o "$BIN/asio_micro_warm" bench/asio_micro_warm.cpp
gcc -O2 -o "$BIN/libuv_micro" "$MICRO/libuv_micro.c" -luv
tools/bazel build -c opt //bench:corio_micro //loop:event_loop_benchmark //tasks:tasks_benchmark \
  >/dev/null 2>&1
# Copies, so that another build in this tree cannot swap the binaries mid-run.
for b in bench/corio_micro loop/event_loop_benchmark tasks/tasks_benchmark; do
  cp -f "bazel-bin/$b" "$BIN/$(basename "$b")"
done

# run MODE CMD...: every output line, with its mode and the process's peak RSS, into RAW.
run() {
  local mode=$1 tf out
  shift
  tf=$(mktemp)
  out=$(/usr/bin/time -f '%M' -o "$tf" "$@")
  while IFS= read -r line; do
    echo "$line mode=$mode round=$ROUND peak_rss_kb=$(tail -n1 "$tf")"
  done <<<"$out" | tee -a "$RAW" >&2
  rm -f "$tf"
}
# corio's Google Benchmark figures (warm by construction), as lines like the others.
cat >"$BIN/gbench_lines.py" <<'PY'
import csv, sys
names = {"BM_PostBatch/0": "post_batch", "BM_PostChain/0": "post_chain",
         "BM_Timers/0/real_time": "timers", "BM_SpawnComplete/1": "spawn"}
rows = [r for r in csv.reader(sys.stdin) if r]
head = rows[0]
for r in rows[1:]:
    d = dict(zip(head, r))
    name = d["name"]
    if name in names:
        if d.get("cpu_ns_per_op"):
            extra = f" cpu_ns_per_op={d['cpu_ns_per_op']}"
        else:  # the main thread's CPU per iteration over the job's 1M operations
            ns = float(d["cpu_time"]) * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[d["time_unit"]]
            extra = f" cpu_ns_per_op={ns / 1e6:.1f}"
        print(f"impl=corio test={names[name]} ns_per_op={d['ns_per_op']}{extra} mode=gbench")
    elif name.startswith("BM_IdleTaskMemory/100000"):
        print(f"impl=corio test=idle n=100000 heap_bytes_per_idle={d['bytes_per_idle']} "
              f"bytes_per_idle={d['rss_bytes_per_idle']} mode=gbench")
PY
gbench() { # one benchmark per run: CSV columns are the first benchmark's counters
  local f
  for f in 'BM_PostBatch/0' 'BM_PostChain/0' 'BM_Timers/0'; do
    "$BIN/event_loop_benchmark" --benchmark_filter="$f" --benchmark_format=csv 2>/dev/null |
      python3 "$BIN/gbench_lines.py" | sed "s/\$/ round=$ROUND/" | tee -a "$RAW" >&2
  done
  for f in 'BM_SpawnComplete/1$' 'BM_IdleTaskMemory/100000'; do
    "$BIN/tasks_benchmark" --benchmark_filter="$f" --benchmark_format=csv 2>/dev/null |
      python3 "$BIN/gbench_lines.py" | sed "s/\$/ round=$ROUND/" | tee -a "$RAW" >&2
  done
}

for ROUND in $(seq "$REPS"); do
  echo "--- round $ROUND of $REPS" >&2
  for t in post_batch post_chain timers spawn idle; do
    run fresh "$BIN/asio_micro" "$t"
    run fresh "$BIN/corio_micro" "$t"
    # The same Asio job, one pass in a fresh process too, from the twin that also reports CPU.
    [[ $t == idle ]] || run fresh "$BIN/asio_micro_warm" "$t" 1
    case $t in post_chain | timers) run fresh "$BIN/libuv_micro" "$t" ;; esac
    case $t in spawn | idle) run fresh /usr/bin/python3 "$MICRO/asyncio_micro.py" "$t" ;; esac
  done
  run fresh "$BIN/corio_micro" idle_sleep
  for t in post_batch post_chain timers spawn; do
    run warm "$BIN/asio_micro_warm" "$t" "$PASSES"
    run warm "$BIN/corio_micro" "$t" "$PASSES"
  done
  gbench
done

if [[ -n "${RAW_OUT:-}" ]]; then cp "$RAW" "$RAW_OUT"; fi  # every line, to look again
python3 - "$RAW" <<'PY'
import re, sys
from collections import OrderedDict
from statistics import median

rows = OrderedDict()  # (test, impl, mode) -> one dict per output line
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=([^\s]+)", line))
    if "test" not in kv:
        continue
    # Pass 1 of a warm process is a fresh figure: warm figures are passes 2.. of every round.
    if kv["mode"] == "warm" and kv.get("pass") == "1":
        continue
    rows.setdefault((kv["test"], kv["impl"], kv["mode"]), []).append(kv)

cols = ["ns_per_op", "cpu_ns_per_op", "late_mean_ms", "bytes_per_idle", "heap_bytes_per_idle",
        "peak_rss_kb"]

def med(test, impl, mode, col):
    vals = [float(r[col]) for r in rows.get((test, impl, mode), []) if col in r]
    return median(vals) if vals else None

print("| test | impl | mode | n | " + " | ".join(cols) + " |")
print("|---|---|---|---:|" + "---:|" * len(cols))
for (test, impl, mode), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
    cells = []
    for c in cols:
        v = med(test, impl, mode, c)
        cells.append("" if v is None else f"{v:,.1f}")
    print(f"| {test} | {impl} | {mode} | {rs[0].get('n', '')} | " + " | ".join(cells) + " |")

print()
print("corio / anchor (medians; lower is better for corio):")
print("| job | counter | fresh vs fresh | warm vs warm (twins) | corio gbench vs asio warm |")
print("|---|---|---:|---:|---:|")
jobs = [("post_batch", "ns_per_op", "asio"), ("post_batch", "cpu_ns_per_op", "asio"),
        ("post_chain", "ns_per_op", "asio"), ("post_chain", "cpu_ns_per_op", "asio"),
        ("post_chain", "ns_per_op", "libuv"),
        ("timers", "cpu_ns_per_op", "asio"), ("timers", "cpu_ns_per_op", "libuv"),
        ("spawn", "ns_per_op", "asio"), ("spawn", "cpu_ns_per_op", "asio"),
        ("spawn", "ns_per_op", "asyncio"),
        ("idle", "bytes_per_idle", "asio"), ("idle", "bytes_per_idle", "asyncio")]
def by_round(test, impl, mode, col):
    out = {}
    for r in rows.get((test, impl, mode), []):
        if col in r:
            out.setdefault(r["round"], []).append(float(r[col]))
    return {k: median(v) for k, v in out.items()}

def ratio(test, col, mode, anchor, anchor_mode=None):
    # Each round's corio median over the same round's anchor median (they ran side by side,
    # under the same load), then the median and the range over the rounds.
    a = by_round(test, "corio", mode, col)
    b = by_round(test.replace("idle_sleep", "idle"), anchor, anchor_mode or mode, col)
    rs = sorted(a[k] / b[k] for k in a if k in b and b[k])
    if not rs:
        return ""
    return f"{median(rs):.2f}x ({rs[0]:.2f}-{rs[-1]:.2f})" if len(rs) > 1 else f"{rs[0]:.2f}x"

for test, col, anchor in jobs + [("idle_sleep", "bytes_per_idle", "asio")]:
    print(f"| {test} | {col} vs {anchor} | {ratio(test, col, 'fresh', anchor)} "
          f"| {ratio(test, col, 'warm', anchor)} | {ratio(test, col, 'gbench', anchor, 'warm')} |")
print("(ratio: the median over rounds of corio / anchor within a round, and its range; "
      "idle_sleep: each corio task on its own timer, the anchor's idle job exactly)")
PY
