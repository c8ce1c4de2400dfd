#!/usr/bin/env bash
# Runs the whole test suite, as CI does:
#   1. ci preset   (release, warnings as errors): every test, both libraries, every backend
#   2. asan preset (ASan + UBSan): every test again
#   3. tsan preset (ThreadSanitizer): the threaded tests (label "threads")
# Usage: tests/run-all.sh [preset...]   (default: ci asan tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(ci asan tsan)
jobs=${JOBS:-$(nproc)}
tests/install-deps.sh
for p in "${presets[@]}"; do
  echo "=== $p ==="
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  ctest --preset "$p"
done
