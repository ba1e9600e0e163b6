#!/bin/sh
# Runs the real example binary (about one second) and checks what it prints.
set -e
out=$("$1")
echo "$out"
echo "$out" | grep -qx "hello"
echo "$out" | grep -q "three 1 s waits finished in 1\."
