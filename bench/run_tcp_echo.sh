#!/usr/bin/env bash
# corio vs Boost.Asio on TCP over loopback: a 64-byte echo ping-pong (ns per round trip) and a
# bulk transfer (MB/s), REPS runs each, interleaved; prints the medians.
#   bench/run_tcp_echo.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-5}
OUT=${BENCH_DIR:-/tmp/fetch-bench}/bin
mkdir -p "$OUT"
dpkg -s libboost1.81-dev >/dev/null 2>&1 ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libboost1.81-dev >/dev/null
g++ -O2 -std=c++20 -o "$OUT/asio_tcp_echo" bench/asio_tcp_echo.cpp
tools/bazel build -c opt //bench:tcp_echo >/dev/null 2>&1
results=$(mktemp)
for rep in $(seq "$REPS"); do
  for impl in "$OUT/asio_tcp_echo" bazel-bin/bench/tcp_echo; do
    "$impl" pingpong 100000 >> "$results"
    "$impl" bulk 256 >> "$results"
  done
done
python3 - "$results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    rows.setdefault((kv["test"], kv["impl"], kv["unit"]), []).append(float(kv["value"]))
print("| test | impl | median | unit |")
print("|---|---|---:|---|")
for (test, impl, unit), v in sorted(rows.items()):
    print(f"| {test} | {impl} | {statistics.median(v):.0f} | {unit} |")
PY
rm -f "$results"
