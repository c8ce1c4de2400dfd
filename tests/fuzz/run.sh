#!/bin/sh
# Builds every libFuzzer target (clang, ASan+UBSan) in build/fuzz and runs each for a
# bounded time with its committed corpus. Usage: tests/fuzz/run.sh [seconds per target]
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DREEVENT_FUZZ=ON -DREEVENT_SANITIZE=address,undefined \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
targets=$(ninja -C "$build" -t targets all | sed -n 's/^\(fuzz_[A-Za-z0-9_]*\): .*/\1/p' | sort -u)
[ -n "$targets" ] || { echo "no fuzz targets"; exit 1; }
cmake --build "$build" -j2 --target $targets
status=0
for t in $targets; do
  name=${t#fuzz_}
  # corpus/<name>/ holds a target's own seeds; without one, corpus/<area>/ holds the seeds
  # of every target of that area (area = name up to '_').
  corpus="$root/tests/fuzz/corpus/$name"
  [ -d "$corpus" ] || corpus="$root/tests/fuzz/corpus/${name%%_*}"
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "== $t for ${secs}s (corpus $corpus)"
  log="$work.log"
  if ! "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$work" >"$log" 2>&1; then
    status=1
    grep -A40 -E "ERROR|mismatch|SUMMARY" "$log" | head -n 60
  fi
  tail -n 12 "$log"
  rm -f "$log"
  rm -rf "$work"
done
exit $status
