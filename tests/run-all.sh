#!/usr/bin/env bash
# Runs the whole test suite, as CI does:
#   1. ci preset   (release, warnings as errors): every test, both libraries, every backend
#   2. asan preset (ASan + UBSan): every test again, on the reevent side
#   3. tsan preset (ThreadSanitizer): the threaded tests (label "thread"), reevent side
# A full run (no arguments) first runs each libFuzzer target for FUZZ_SECONDS (default 6;
# 0 skips) with clang, ASan and UBSan (tests/fuzz/run.sh; fuzz longer by hand with it).
# Usage: tests/run-all.sh [preset...]   (default: ci asan tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
full=0
[ ${#presets[@]} -gt 0 ] || { presets=(ci asan tsan); full=1; }
jobs=${JOBS:-$(nproc)}
tests/install-deps.sh
if [ "$full" = 1 ] && [ "${FUZZ_SECONDS:-6}" != 0 ]; then
  echo "=== fuzz (${FUZZ_SECONDS:-6} s per target) === $(date -u +%T)"
  sh tests/fuzz/run.sh "${FUZZ_SECONDS:-6}"
fi
for p in "${presets[@]}"; do
  echo "=== $p === $(date -u +%T)"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  echo "=== $p built, testing === $(date -u +%T)"
  ctest --preset "$p"
done
echo "=== all passed in ${SECONDS}s === $(date -u +%T)"
