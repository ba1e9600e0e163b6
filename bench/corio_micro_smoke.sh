#!/usr/bin/env bash
# Smoke test for corio_micro: every job, two passes, n divided by 100. Fails when a job fails
# its own check (lost callbacks or tasks, timers early) or the program misbehaves.
set -euo pipefail
bin=$1
for t in post_batch post_chain timers spawn idle idle_sleep; do
  out=$("$bin" "$t" 2 100)
  echo "$out"
  grep -q "test=$t " <<<"$out"
done
if "$bin" nonsense 2>/dev/null; then
  echo "an unknown job must fail" >&2
  exit 1
fi
