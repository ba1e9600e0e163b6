#!/bin/sh
# Replays a fuzz target's seed corpus (the target was built with the replay main).
set -e
bin=$1
shift
[ "$#" -gt 0 ] || { echo "no corpus files" >&2; exit 1; }
exec "$bin" "$@"
