#!/usr/bin/env bash
# Runs every test file. Node 20's test runner neither finds .ts files nor expands
# globs, so the files are listed explicitly. TEST_FILTER narrows to paths matching a regex.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test -name '*.test.ts' | sort | grep -E "${TEST_FILTER:-.}")
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
