#!/usr/bin/env bash
# Two GCC 12 coroutine bugs corio's sources must not trigger (see tasks/task.h):
#  1. a co_await inside an `if`/`switch` condition (or a gtest EXPECT_*/ASSERT_* macro, which
#     expands to one) makes GCC 12 drop the whole coroutine body;
#  2. a lambda with by-value captures written inside a co_await expression is destroyed once
#     too often when the coroutine suspends there.
# Each is matched on one line; bind results / name lambdas first.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cc' '*.h')
status=0
condition='(\b(if|switch)[[:space:]]*\(|\b(EXPECT|ASSERT)_[A-Z_]+\().*co_await'
if hits=$(grep -nE "$condition" "${files[@]}"); then
  echo "co_await inside an if/switch condition or a gtest assertion (GCC 12 drops the body):" >&2
  echo "$hits" >&2
  status=1
fi
# A capture list starting with a by-value capture ([x, [=, [this, y) followed by what makes it a
# lambda (a parameter list, a body, mutable, ->); [], [&], [&x] and [this] are fine.
lambda='co_await[^;]*\[[[:space:]]*(=|[A-Za-z_][A-Za-z0-9_]*)[^]]*\][[:space:]]*(\(|\{|mutable|->)'
if hits=$(grep -nE "$lambda" "${files[@]}" | grep -vE '\[[[:space:]]*this[[:space:]]*\]'); then
  echo "lambda with by-value captures inside a co_await expression (GCC 12 destroys it twice):" >&2
  echo "$hits" >&2
  status=1
fi
[ "$status" = 0 ] && echo "co_await check ok"
exit $status
