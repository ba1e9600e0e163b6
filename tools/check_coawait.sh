#!/usr/bin/env bash
# GCC 12 drops the whole body of a coroutine that has a co_await inside an `if` or `switch`
# condition (and gtest's EXPECT_*/ASSERT_* macros expand to such conditions). This check
# fails on any such line in corio's sources: bind the result to a variable first.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='(\b(if|switch)[[:space:]]*\(|\b(EXPECT|ASSERT)_[A-Z_]+\().*co_await'
if hits=$(git ls-files --cached --others --exclude-standard '*.cc' '*.h' | xargs grep -nE "$pattern"); then
  echo "co_await inside an if/switch condition or a gtest assertion (GCC 12 drops the body):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "co_await check ok"
