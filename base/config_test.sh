#!/usr/bin/env bash
# base/config.h: corio's headers stop a build below C++20 with an error that names the fix, and
# compile quietly at C++20.
set -euo pipefail
CXX=${CXX:-g++}
command -v "$CXX" >/dev/null || CXX=c++
header=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/base"
cp "$header" "$dir/base/config.h"
echo '#include "base/config.h"' >"$dir/use.cc"
if "$CXX" -std=c++17 -fsyntax-only -I"$dir" "$dir/use.cc" 2>"$dir/err"; then
  echo "FAIL: base/config.h compiled under -std=c++17" >&2
  exit 1
fi
grep -q -- "--cxxopt=-std=c++20" "$dir/err" || {
  echo "FAIL: the error does not name the fix:" >&2
  cat "$dir/err" >&2
  exit 1
}
"$CXX" -std=c++20 -fsyntax-only -I"$dir" "$dir/use.cc"
echo "PASS: $(head -1 "$dir/err")"
