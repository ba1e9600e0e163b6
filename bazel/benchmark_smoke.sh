#!/bin/sh
# Runs a Google Benchmark binary with a tiny time budget: a smoke test, not a measurement.
bin=$1
shift
exec "$bin" --benchmark_min_time=0.000001 --benchmark_repetitions=1 "$@"
